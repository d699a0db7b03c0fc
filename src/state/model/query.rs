//! Reading the model: the devices (the manager's table joined with the app's records), one
//! device, and the list the page shows (filtered, searched, sorted).

use bluehome_core::DeviceKey;
use bluehome_core::filter::FilterSet;

use super::ScanModel;
use super::entry::DeviceEntry;
use crate::state::settings::{Settings, SortKey};

impl ScanModel {
    /// One device: heard (the manager has data for it) or known from saved history.
    pub fn device(&self, key: &DeviceKey) -> Option<DeviceEntry<'_>> {
        let heard = self.manager.device(key);
        let key = heard.map_or_else(
            || self.records.get_key_value(key).map(|(k, _)| k),
            |d| Some(d.key()),
        )?;
        DeviceEntry::join(
            key,
            heard,
            self.records.get(key),
            self.manager.given_mac(key),
        )
    }

    /// Every device: the ones the manager has data for, then the ones known only from saved
    /// history. In no particular order.
    pub fn devices(&self) -> impl Iterator<Item = DeviceEntry<'_>> {
        let heard = self.manager.devices().filter_map(|d| {
            let key = d.key();
            DeviceEntry::join(
                key,
                Some(d),
                self.records.get(key),
                self.manager.given_mac(key),
            )
        });
        let saved_only = self
            .records
            .iter()
            .filter(|(key, _)| self.manager.device(key).is_none_or(|d| d.info().is_none()))
            .filter_map(|(key, record)| {
                DeviceEntry::join(key, None, Some(record), self.manager.given_mac(key))
            });
        heard.chain(saved_only)
    }

    /// How many devices [`ScanModel::devices`] lists.
    pub fn device_count(&self) -> usize {
        self.devices().count()
    }

    /// The devices to show: matching the filters, the RSSI threshold and the quick search, sorted.
    pub fn visible(
        &self,
        settings: &Settings,
        filters: &FilterSet,
        search: &str,
    ) -> Vec<DeviceEntry<'_>> {
        let search = search.trim().to_lowercase();
        let mut list: Vec<DeviceEntry<'_>> = self
            .devices()
            .filter(|d| filters.matches(d.key, d.data))
            .filter(|d| match settings.rssi_threshold {
                Some(min) => d.rssi.is_some_and(|r| r >= min),
                None => true,
            })
            .filter(|d| search.is_empty() || self.search_text(d).contains(&search))
            .collect();
        match settings.sort {
            SortKey::LastSeen => list.sort_by(|a, b| {
                b.last_seen_ms
                    .cmp(&a.last_seen_ms)
                    .then_with(|| a.key.cmp(b.key))
            }),
            SortKey::Rssi => {
                // Strongest first, by 10 dB step (a packet's usual ±3 dB does not reorder), then
                // by title.
                let step =
                    |d: &DeviceEntry<'_>| d.rssi.map_or(i16::MIN, |r| i16::from(r).div_euclid(10));
                list.sort_by(|a, b| {
                    step(b).cmp(&step(a)).then_with(|| {
                        let (ta, tb) = (a.title(&self.labels), b.title(&self.labels));
                        let lower = char::to_lowercase;
                        ta.chars()
                            .flat_map(lower)
                            .cmp(tb.chars().flat_map(lower))
                            .then_with(|| a.key.cmp(b.key))
                    })
                })
            }
            SortKey::Name => {
                list.sort_by_cached_key(|d| (d.title(&self.labels).to_lowercase(), d.key.clone()))
            }
            SortKey::FirstSeen => list.sort_by(|a, b| {
                a.first_seen_ms
                    .cmp(&b.first_seen_ms)
                    .then_with(|| a.key.cmp(b.key))
            }),
        }
        list
    }

    fn search_text(&self, d: &DeviceEntry<'_>) -> String {
        let mut text = String::new();
        for part in [
            self.labels.get(d.key).map(String::as_str),
            d.name,
            Some(d.key.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            text.push_str(part);
            text.push(' ');
        }
        if let Some(mac) = d.mac {
            text.push_str(&mac.to_string());
        }
        text.push(' ');
        text.push_str(&d.kind.to_string());
        text.to_lowercase()
    }
}
