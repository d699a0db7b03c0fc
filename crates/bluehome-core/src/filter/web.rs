//! Shelly filter sets as Web Bluetooth filter dictionaries.
//!
//! Web Bluetooth's `BluetoothLEScanFilterInit` (used by both `navigator.bluetooth.requestDevice`
//! and `requestLEScan`) has `services` (all must be present), `name` (exact), `namePrefix`,
//! `manufacturerData` and `serviceData` (lists of `{companyIdentifier|service, dataPrefix, mask}`).
//! [`WebFilter`] is that dictionary with typed fields (UUIDs, [`DataPrefix`]); this module
//! translates Shelly filter sets into it, and the app's conversion module turns it into JS objects.
//!
//! What cannot be said in Web Bluetooth is widened, never narrowed, and reported as a [`Loss`], so
//! the browser delivers a superset and the manager applies the exact Shelly filter afterwards:
//! - `addrs`: the browser hides addresses, so the condition is dropped;
//! - a `name` with wildcards other than one trailing `*` becomes a `namePrefix` of its literal
//!   start (or is dropped when that start is empty);
//! - `serviceData` without `service` and `manufacturerData` without `companyIdentifier` match
//!   everything in Shelly and have no Web Bluetooth form; they are dropped.
//!
//! A filter left with no condition at all means "everything", which Web Bluetooth expresses only
//! as `acceptAllDevices` / `acceptAllAdvertisements`.
//!
//! `requestLEScan` gets less ([`translate_scan`]): Chrome compares a scan filter's `name` and
//! `namePrefix` with each advertisement event's own name, and on Windows an event carries only the
//! name of its own packet, so the nameless BTHome data packets of a device that names itself in
//! its scan response (Shelly BLU) would be dropped; `manufacturerData` in scan filters is ignored
//! (crbug.com/41310835); `serviceData` is not implemented. Only `services` conditions go to the
//! scan; the rest is checked on the device's merged data, where the manager keeps it.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use super::{DataPrefix, FilterSet, ScanFilter};
use crate::advertisement::Advertisement;
use crate::uuid::Uuid;

/// One `manufacturerData` entry of a Web Bluetooth filter (`BluetoothManufacturerDataFilterInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebManufacturerData {
    /// The company id (`companyIdentifier`).
    pub company: u16,
    /// `dataPrefix` and `mask`, compared with the bytes after the company id.
    pub data: DataPrefix,
}

/// One `serviceData` entry of a Web Bluetooth filter (`BluetoothServiceDataFilterInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebServiceData {
    /// The service UUID.
    pub service: Uuid,
    /// `dataPrefix` and `mask`, compared with that service's data.
    pub data: DataPrefix,
}

/// One Web Bluetooth filter (`BluetoothLEScanFilterInit`, taken by `requestDevice` and
/// `requestLEScan`): every condition set must hold. The app's conversion module turns it into the
/// JS object; [`WebFilter::matches`] is how the browser applies it (the mock backend's chooser).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebFilter {
    /// Service UUIDs that must all be advertised.
    pub services: Vec<Uuid>,
    /// Exact name.
    pub name: Option<String>,
    /// Name prefix.
    pub name_prefix: Option<String>,
    /// Manufacturer data conditions.
    pub manufacturer_data: Vec<WebManufacturerData>,
    /// Service data conditions.
    pub service_data: Vec<WebServiceData>,
}

impl WebFilter {
    fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.name.is_none()
            && self.name_prefix.is_none()
            && self.manufacturer_data.is_empty()
            && self.service_data.is_empty()
    }

    /// Whether a device with this name and last advertisement passes the filter, as the Web
    /// Bluetooth specification matches a filter (webbluetoothcg.github.io/web-bluetooth,
    /// "matches a filter"): `name` exactly, `namePrefix`, every service among the advertised
    /// service UUIDs (Chrome never counts service data as a service), and every manufacturer and
    /// service data condition on that company's or service's data. Conditions other than the
    /// name need an advertisement.
    pub fn matches(&self, name: Option<&str>, advertisement: Option<&Advertisement>) -> bool {
        if !self.name_matches(name) {
            return false;
        }
        if self.services.is_empty()
            && self.manufacturer_data.is_empty()
            && self.service_data.is_empty()
        {
            return true;
        }
        let Some(adv) = advertisement else {
            return false;
        };
        self.services_advertised(adv)
            && self.manufacturer_data.iter().all(|m| {
                adv.manufacturer_data
                    .get(&m.company)
                    .is_some_and(|bytes| m.data.matches(bytes))
            })
            && self.service_data.iter().all(|s| {
                adv.service_data
                    .get(&s.service)
                    .is_some_and(|bytes| s.data.matches(bytes))
            })
    }

    /// The `name` and `namePrefix` conditions alone.
    pub fn name_matches(&self, name: Option<&str>) -> bool {
        self.name.as_deref().is_none_or(|want| name == Some(want))
            && self
                .name_prefix
                .as_deref()
                .is_none_or(|prefix| name.is_some_and(|n| n.starts_with(prefix)))
    }

    /// The `services` condition alone: every listed UUID is advertised.
    pub fn services_advertised(&self, advertisement: &Advertisement) -> bool {
        self.services
            .iter()
            .all(|s| advertisement.service_uuids.contains(s))
    }
}

/// What a Shelly condition lost in translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LossKind {
    /// `addrs` was dropped (browsers hide addresses).
    Addresses,
    /// The name pattern was widened to a prefix.
    NameWidenedToPrefix {
        /// The pattern.
        pattern: String,
        /// The prefix used instead.
        prefix: String,
    },
    /// The name pattern starts with a wildcard and was dropped.
    NameDropped {
        /// The pattern.
        pattern: String,
    },
    /// `serviceData` without `service` was dropped.
    ServiceDataWithoutService,
    /// `manufacturerData` without `companyIdentifier` was dropped.
    ManufacturerDataWithoutCompany,
    /// Nothing was left of the filter, so the browser has to accept everything.
    AcceptsEverything,
    /// A condition a scan cannot apply to each packet (`name`, `manufacturerData`,
    /// `serviceData`): left out of `requestLEScan`, checked on the merged device data instead.
    CheckedAfterMerge {
        /// The condition's field name in the Shelly filter.
        field: &'static str,
    },
}

/// A loss, with the index of the Shelly filter it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// Index into the Shelly filter set.
    pub filter: usize,
    /// What was lost.
    #[serde(flatten)]
    pub kind: LossKind,
}

/// A filter set translated for Web Bluetooth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebFilters {
    /// The filters (empty when `accept_all`).
    pub filters: Vec<WebFilter>,
    /// True when only "accept everything" can deliver what the set asks for.
    pub accept_all: bool,
    /// What was widened or dropped; empty when the translation is exact.
    pub losses: Vec<Loss>,
}

/// Translates a filter set for `requestLEScan`: each filter's `services` alone (one scan filter
/// per listed service), and everything when any filter has none. Names, manufacturer and service
/// data are reported as [`LossKind::CheckedAfterMerge`] (see the module documentation).
pub fn translate_scan(set: &FilterSet) -> WebFilters {
    let mut out = WebFilters::default();
    if set.accepts_all() {
        out.accept_all = true;
        return out;
    }
    for (i, filter) in set.filters.iter().enumerate() {
        let mut lose = |kind| out.losses.push(Loss { filter: i, kind });
        if !filter.addrs.is_empty() {
            lose(LossKind::Addresses);
        }
        let later = [
            ("name", filter.name.is_some()),
            ("manufacturerData", filter.manufacturer_data.is_some()),
            ("serviceData", filter.service_data.is_some()),
        ];
        for (field, present) in later {
            if present {
                lose(LossKind::CheckedAfterMerge { field });
            }
        }
        if filter.services.is_empty() {
            lose(LossKind::AcceptsEverything);
            out.accept_all = true;
        }
        for uuid in &filter.services {
            out.filters.push(WebFilter {
                services: alloc::vec![*uuid],
                ..WebFilter::default()
            });
        }
    }
    if out.accept_all {
        out.filters.clear();
    }
    out
}

/// Translates a filter set for `requestDevice` (the chooser).
pub fn translate(set: &FilterSet) -> WebFilters {
    let mut out = WebFilters::default();
    if set.accepts_all() {
        out.accept_all = true;
        return out;
    }
    for (i, filter) in set.filters.iter().enumerate() {
        let base = translate_one(i, filter, &mut out.losses);
        if base.is_empty() && filter.services.is_empty() {
            out.losses.push(Loss {
                filter: i,
                kind: LossKind::AcceptsEverything,
            });
            out.accept_all = true;
            continue;
        }
        if filter.services.is_empty() {
            out.filters.push(base);
        } else {
            // Shelly lists services as alternatives; Web Bluetooth requires all of a filter's
            // services, so each alternative becomes its own filter.
            for uuid in &filter.services {
                let mut f = base.clone();
                f.services.push(*uuid);
                out.filters.push(f);
            }
        }
    }
    if out.accept_all {
        out.filters.clear();
    }
    out
}

fn translate_one(i: usize, filter: &ScanFilter, losses: &mut Vec<Loss>) -> WebFilter {
    let mut web = WebFilter::default();
    let mut lose = |kind| losses.push(Loss { filter: i, kind });
    if !filter.addrs.is_empty() {
        lose(LossKind::Addresses);
    }
    if let Some(pattern) = &filter.name {
        if pattern.is_literal() {
            web.name = Some(pattern.as_str().into());
        } else if !pattern.literal_prefix().is_empty() {
            web.name_prefix = Some(pattern.literal_prefix().into());
            if !pattern.is_prefix_pattern() {
                lose(LossKind::NameWidenedToPrefix {
                    pattern: pattern.as_str().into(),
                    prefix: pattern.literal_prefix().into(),
                });
            }
        } else if pattern.as_str() != "*" {
            lose(LossKind::NameDropped {
                pattern: pattern.as_str().into(),
            });
        }
    }
    if let Some(sd) = &filter.service_data {
        match sd.service {
            Some(service) => web.service_data.push(WebServiceData {
                service,
                data: sd.data.clone(),
            }),
            None => lose(LossKind::ServiceDataWithoutService),
        }
    }
    if let Some(md) = &filter.manufacturer_data {
        match md.company {
            Some(company) => web.manufacturer_data.push(WebManufacturerData {
                company,
                data: md.data.clone(),
            }),
            None => lose(LossKind::ManufacturerDataWithoutCompany),
        }
    }
    web
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn web(json: &str) -> WebFilters {
        translate(&FilterSet::from_json(json).unwrap())
    }

    fn scan(json: &str) -> WebFilters {
        translate_scan(&FilterSet::from_json(json).unwrap())
    }

    fn services(uuids: &[u16]) -> Vec<WebFilter> {
        uuids
            .iter()
            .map(|&u| WebFilter {
                services: alloc::vec![Uuid::from_u16(u)],
                ..WebFilter::default()
            })
            .collect()
    }

    #[test]
    fn empty_set_is_accept_all_without_loss() {
        let w = web("[]");
        assert!(w.accept_all && w.losses.is_empty());
        let s = scan("[]");
        assert!(s.accept_all && s.filters.is_empty() && s.losses.is_empty());
    }

    #[test]
    fn a_scan_by_name_accepts_everything_and_names_the_condition_checked_later() {
        // A Shelly BLU device's BTHome data packets carry no name on Windows; a name filter in
        // requestLEScan would drop every one of them.
        let w = scan(r#"[{"name":"SBHT-*"}]"#);
        assert!(w.accept_all && w.filters.is_empty());
        assert_eq!(
            w.losses,
            [
                Loss {
                    filter: 0,
                    kind: LossKind::CheckedAfterMerge { field: "name" }
                },
                Loss {
                    filter: 0,
                    kind: LossKind::AcceptsEverything
                }
            ]
        );
    }

    #[test]
    fn a_scan_by_manufacturer_or_service_data_accepts_everything() {
        // Chrome ignores manufacturerData in scan filters and has no serviceData filter.
        for json in [
            r#"[{"manufacturerData":{"companyIdentifier":2985}}]"#,
            r#"[{"serviceData":{"service":"fcd2"}}]"#,
        ] {
            let w = scan(json);
            assert!(w.accept_all && w.filters.is_empty(), "{json}");
        }
    }

    #[test]
    fn a_scan_keeps_only_the_services_of_each_filter() {
        let json = r#"[{"services":["180f","fcd2"],"name":"SB*","manufacturerData":{"companyIdentifier":2985}}]"#;
        let w = scan(json);
        assert!(!w.accept_all);
        assert_eq!(w.filters, services(&[0x180F, 0xFCD2]));
        let later: Vec<_> = w.losses.iter().map(|l| &l.kind).collect();
        assert_eq!(
            later,
            [
                &LossKind::CheckedAfterMerge { field: "name" },
                &LossKind::CheckedAfterMerge {
                    field: "manufacturerData"
                }
            ]
        );
        // One filter without services widens the whole scan.
        assert!(scan(r#"[{"services":["fcd2"]},{"name":"x"}]"#).accept_all);
    }

    #[test]
    fn exact_conditions_translate_exactly() {
        let w = web(
            r#"[{"name":"SBHT-003C","serviceData":{"service":"fcd2","dataPrefix":"40","mask":"e0"},
                 "manufacturerData":{"companyIdentifier":2985}}]"#,
        );
        assert!(w.losses.is_empty() && !w.accept_all);
        assert_eq!(
            w.filters,
            [WebFilter {
                name: Some("SBHT-003C".into()),
                manufacturer_data: alloc::vec![WebManufacturerData {
                    company: 2985,
                    data: DataPrefix::default(),
                }],
                service_data: alloc::vec![WebServiceData {
                    service: Uuid::BTHOME_V2,
                    data: DataPrefix::new(alloc::vec![0x40], Some(alloc::vec![0xE0])).unwrap(),
                }],
                ..WebFilter::default()
            }]
        );
    }

    #[test]
    fn trailing_star_becomes_name_prefix_exactly() {
        let w = web(r#"[{"name":"SBHT-*"}]"#);
        assert!(w.losses.is_empty());
        assert_eq!(w.filters[0].name_prefix.as_deref(), Some("SBHT-"));
    }

    #[test]
    fn inner_wildcards_widen_to_the_literal_prefix_and_say_so() {
        let w = web(r#"[{"name":"SB?T-*"}]"#);
        assert_eq!(w.filters[0].name_prefix.as_deref(), Some("SB"));
        assert_eq!(
            w.losses,
            [Loss {
                filter: 0,
                kind: LossKind::NameWidenedToPrefix {
                    pattern: "SB?T-*".into(),
                    prefix: "SB".into()
                }
            }]
        );
        // With no literal prefix the name cannot be given to the browser; `*` alone loses nothing.
        let w = web(r#"[{"name":"?BHT","services":["fcd2"]},{"name":"*","services":["fcd2"]}]"#);
        assert!(
            w.filters
                .iter()
                .all(|f| f.name.is_none() && f.name_prefix.is_none())
        );
        assert_eq!(
            w.losses,
            [Loss {
                filter: 0,
                kind: LossKind::NameDropped {
                    pattern: "?BHT".into()
                }
            }]
        );
    }

    #[test]
    fn alternative_services_become_separate_filters() {
        let w = web(r#"[{"services":["180f","fcd2"],"name":"x"}]"#);
        assert!(w.losses.is_empty());
        assert_eq!(w.filters.len(), 2);
        assert_eq!(w.filters[1].services, [Uuid::BTHOME_V2]);
        assert_eq!(w.filters[1].name.as_deref(), Some("x"));
    }

    #[test]
    fn addresses_only_filter_needs_accept_all() {
        let w = web(r#"[{"addrs":["11:22:33:44:55:66"]},{"name":"x"}]"#);
        assert!(w.accept_all);
        assert!(w.filters.is_empty());
        assert_eq!(w.losses.len(), 2);
        assert_eq!(w.losses[0].kind, LossKind::Addresses);
        assert_eq!(w.losses[1].kind, LossKind::AcceptsEverything);
    }

    #[test]
    fn data_without_key_is_dropped_and_reported() {
        let w = web(r#"[{"name":"x","manufacturerData":{"dataPrefix":"01"}}]"#);
        assert_eq!(w.filters.len(), 1);
        assert!(w.filters[0].manufacturer_data.is_empty());
        assert_eq!(w.losses[0].kind, LossKind::ManufacturerDataWithoutCompany);
    }

    #[test]
    fn losses_serialize_with_their_kind() {
        let w = web(r#"[{"addrs":["11:22:33:44:55:66"],"name":"x"}]"#);
        assert_eq!(
            serde_json::to_value(&w.losses).unwrap(),
            json!([{"filter":0,"kind":"addresses"}])
        );
    }

    #[test]
    fn a_filter_checks_name_prefix_and_manufacturer_prefix_with_mask() {
        let mut adv = Advertisement::default();
        adv.manufacturer_data
            .insert(0x0BA9, alloc::vec![0x01, 0x37]);
        let filter = WebFilter {
            name_prefix: Some("SBHT".into()),
            manufacturer_data: alloc::vec![WebManufacturerData {
                company: 0x0BA9,
                data: DataPrefix::masked([(0x01, 0xFF), (0x30, 0xF0)]),
            }],
            ..WebFilter::default()
        };
        assert!(filter.matches(Some("SBHT-003C"), Some(&adv)));
        assert!(!filter.matches(Some("ATC_1234"), Some(&adv)));
        assert!(!filter.matches(None, Some(&adv)), "a prefix needs a name");
        assert!(
            !filter.matches(Some("SBHT-003C"), None),
            "data needs an advertisement"
        );
        adv.manufacturer_data
            .insert(0x0BA9, alloc::vec![0x01, 0x47]);
        assert!(!filter.matches(Some("SBHT-003C"), Some(&adv)));
        adv.manufacturer_data.remove(&0x0BA9);
        assert!(
            !filter.matches(Some("SBHT-003C"), Some(&adv)),
            "no such company"
        );
    }

    /// Chrome matches `services` against the advertised UUIDs only: service data under a UUID does
    /// not make it an advertised service.
    #[test]
    fn services_must_be_advertised_and_service_data_must_match_its_prefix() {
        let mut adv = Advertisement::default();
        adv.service_data
            .insert(Uuid::BTHOME_V2, alloc::vec![0x44, 0x00]);
        let by_service = WebFilter {
            services: alloc::vec![Uuid::BTHOME_V2],
            ..WebFilter::default()
        };
        assert!(!by_service.matches(None, Some(&adv)));
        adv.add_service_uuid(Uuid::BTHOME_V2);
        assert!(by_service.matches(None, Some(&adv)));
        let by_data = |prefix: u8| WebFilter {
            service_data: alloc::vec![WebServiceData {
                service: Uuid::BTHOME_V2,
                data: DataPrefix::masked([(prefix, 0xE0)]),
            }],
            ..WebFilter::default()
        };
        assert!(by_data(0x40).matches(None, Some(&adv)));
        assert!(!by_data(0x20).matches(None, Some(&adv)));
        let exact = WebFilter {
            name: Some("SBHT-003C".into()),
            ..WebFilter::default()
        };
        assert!(exact.matches(Some("SBHT-003C"), None));
        assert!(!exact.matches(Some("SBHT-003"), None));
    }
}
