//! The Decode page: paste hex (or pick an example), see every field in a byte map linked both
//! ways to its decoded row, share the decode as a link (never the key).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::live::{Live, LiveRegion};
use crate::platform;
use crate::state::decode::{
    ByteSpan, DecodeInput, DecodeView, EXAMPLES, Field, InputKind, ObjectRow, decode,
};
use crate::state::settings::Settings;

/// The byte-map link under the pointer or focus: its bytes and its rows are marked together.
type Active = RwSignal<Option<usize>>;

/// Handlers and marks shared by the byte spans and the rows they link to.
fn link_events(active: Active, link: Option<usize>) -> impl Fn(bool) + Copy {
    move |on: bool| {
        if on {
            active.set(link);
        } else if active.get_untracked() == link {
            active.set(None);
        }
    }
}

/// Moves the focus to the first row linked to `link` (a click on a byte span).
fn focus_row(link: usize) {
    let row = document()
        .query_selector(&format!(".decode-result [data-row-link=\"{link}\"]"))
        .ok()
        .flatten();
    if let Some(row) = row.and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = row.focus();
    }
}

fn fields(list: Vec<Field>, active: Active) -> impl IntoView {
    list.into_iter()
        .map(|f| {
            let link = f.link;
            let mark = link_events(active, link);
            view! {
                <tr
                    data-row-link=link
                    tabindex=link.map(|_| "0")
                    class:linked=move || link.is_some() && active.get() == link
                    on:mouseenter=move |_| mark(true)
                    on:mouseleave=move |_| mark(false)
                    on:focus=move |_| mark(true)
                    on:blur=move |_| mark(false)
                >
                    <th scope="row">{f.name}</th>
                    <td class="mono">{f.value}</td>
                </tr>
            }
        })
        .collect_view()
}

fn object_rows(list: Vec<ObjectRow>, active: Active) -> impl IntoView {
    list.into_iter()
        .map(|o| {
            let link = Some(o.link);
            let mark = link_events(active, link);
            view! {
                <tr
                    data-row-link=o.link
                    tabindex="0"
                    class:linked=move || active.get() == link
                    on:mouseenter=move |_| mark(true)
                    on:mouseleave=move |_| mark(false)
                    on:focus=move |_| mark(true)
                    on:blur=move |_| mark(false)
                >
                    <td class="mono">{o.id}</td>
                    <td>{o.name}</td>
                    <td class="mono">{o.value}</td>
                    <td>{o.unit}</td>
                </tr>
            }
        })
        .collect_view()
}

/// The input bytes field by field: each span is a button named after its field; hovering or
/// focusing it marks its rows, clicking it moves the focus there.
fn byte_map(map: Vec<ByteSpan>, active: Active) -> impl IntoView {
    (!map.is_empty()).then(|| {
        view! {
            <h2 id="byte-map-title">"Bytes"</h2>
            <p class="note">"Each field of the input. Point at one, or reach it with Tab, to mark its decoded row (and the reverse); press or tap it to go to the row."</p>
            <div class="byte-map mono" role="group" aria-labelledby="byte-map-title">
                {map.into_iter().map(|span| {
                    let link = Some(span.link);
                    let mark = link_events(active, link);
                    let name = format!("{}: {}", span.label, span.hex);
                    view! {
                        <button
                            type="button"
                            class=format!("byte-span {}", span.class)
                            class:linked=move || active.get() == link
                            data-link=span.link
                            title=span.label
                            aria-label=name
                            on:mouseenter=move |_| mark(true)
                            on:mouseleave=move |_| mark(false)
                            on:focus=move |_| mark(true)
                            on:blur=move |_| mark(false)
                            on:click=move |_| focus_row(span.link)
                        >
                            {span.hex}
                        </button>
                    }
                }).collect_view()}
            </div>
        }
    })
}

/// What the decode found, down to the BTHome objects; the problems are live regions of their own
/// (see [`DecodePage`]) and the Shelly data comes after the BTHome one's ([`result_tail`]).
fn result_view(view_model: DecodeView, active: Active) -> impl IntoView {
    let DecodeView {
        structures,
        bthome,
        map,
        ..
    } = view_model;
    view! {
        {byte_map(map, active)}
        {(!structures.is_empty()).then(|| view! {
            <h2>"AD structures"</h2>
            <table class="decode-table">
                <thead><tr><th scope="col">"Type"</th><th scope="col">"Content"</th></tr></thead>
                <tbody>{fields(structures, active)}</tbody>
            </table>
        })}
        {bthome.map(|b| view! {
            <h2>"BTHome"</h2>
            <table class="decode-table">
                <tbody>{fields(b.header, active)}</tbody>
            </table>
            <table class="decode-table objects">
                <thead><tr><th scope="col">"Object"</th><th scope="col">"Name"</th><th scope="col">"Value"</th><th scope="col">"Unit"</th></tr></thead>
                <tbody>{object_rows(b.objects, active)}</tbody>
            </table>
        })}
    }
}

/// The Shelly manufacturer data and the note, after the BTHome decode's problem.
fn result_tail(shelly: Vec<Field>, note: Option<String>, active: Active) -> impl IntoView {
    view! {
        {(!shelly.is_empty()).then(|| view! {
            <h2>"Shelly manufacturer data"</h2>
            <table class="decode-table"><tbody>{fields(shelly, active)}</tbody></table>
        })}
        {note.map(|n| view! { <p class="note">{n}</p> })}
    }
}

/// Paste an advertisement in hex and see every field decoded.
/// A text field of the form shown only while the hex is of the kind `only`.
#[component]
fn KindField(
    /// The kind chosen.
    kind: RwSignal<InputKind>,
    /// The kind the field belongs to.
    only: InputKind,
    /// The label, before the field.
    label: &'static str,
    /// The field's name.
    name: &'static str,
    /// Its value.
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <Show when=move || kind.get() == only>
            <label>
                {label}
                <input type="text" class="mono" name=name spellcheck="false" bind:value=value />
            </label>
        </Show>
    }
}

#[component]
pub fn DecodePage() -> impl IntoView {
    crate::platform::set_title("Decode");
    let start = DecodeInput::from_fragment(&platform::fragment());
    let kind = RwSignal::new(start.kind);
    let uuid = RwSignal::new(start.uuid);
    let company = RwSignal::new(start.company);
    let hex = RwSignal::new(start.hex);
    let mac = RwSignal::new(start.mac);
    // The bind key stays in this signal: never in the URL, never saved.
    let key = RwSignal::new(String::new());
    let input = Memo::new(move |_| DecodeInput {
        kind: kind.get(),
        uuid: uuid.get(),
        company: company.get(),
        hex: hex.get(),
        mac: mac.get(),
    });
    Effect::new(move |_| {
        let fragment = input.with(DecodeInput::to_fragment);
        platform::replace_fragment(&fragment);
    });
    let settings = Settings::default();
    let active: Active = RwSignal::new(None);
    // Memos: a keystroke that leaves the decode (or a problem) as it was draws nothing again, and
    // says nothing again.
    let decoded = Memo::new(move |_| decode(&input.get(), &key.get(), &settings));
    let result = move || result_view(decoded.get(), active);
    let tail = move || decoded.with(|d| result_tail(d.shelly.clone(), d.note.clone(), active));
    let input_error = Memo::new(move |_| decoded.with(|d| d.input_error.clone()));
    let bthome_error =
        Memo::new(move |_| decoded.with(|d| d.bthome.as_ref().and_then(|b| b.error.clone())));
    let examples = EXAMPLES.map(|example| {
        let fill = move |_| {
            let filled = example.input();
            kind.set(filled.kind);
            uuid.set(filled.uuid);
            company.set(filled.company);
            hex.set(filled.hex);
            mac.set(filled.mac);
            key.set(example.key.to_owned());
        };
        view! { <button type="button" on:click=fill>{example.label}</button> }
    });
    view! {
        <section class="page decode-page">
            <h1>"Decode"</h1>
            <p class="lead">"Paste an advertisement in hex and see every field decoded. The link of this page carries the input (never the bind key), so a decode can be shared."</p>
            <div class="decode-examples" role="group" aria-labelledby="decode-examples-title">
                <span id="decode-examples-title">"Try an example:"</span>
                {examples.into_iter().collect_view()}
            </div>
            <form class="decode-form" on:submit=|ev| ev.prevent_default()>
                <fieldset class="kinds">
                    <legend>"The hex is"</legend>
                    {InputKind::ALL.into_iter().map(|k| view! {
                        <label class="check">
                            <input
                                type="radio"
                                name="kind"
                                value=k.id()
                                prop:checked=move || kind.get() == k
                                on:change=move |_| kind.set(k)
                            />
                            " "{k.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <KindField kind only=InputKind::ServiceData label="Service UUID " name="uuid" value=uuid />
                <KindField kind only=InputKind::ManufacturerData label="Company id " name="company" value=company />
                <label class="wide">
                    "Hex "
                    <textarea class="mono" name="hex" rows="3" spellcheck="false" bind:value=hex></textarea>
                </label>
                <label>
                    "MAC (for decryption) "
                    <input type="text" class="mono" name="mac" placeholder="AA:BB:CC:DD:EE:FF" spellcheck="false" bind:value=mac />
                </label>
                <label>
                    "Bind key (not put in the link) "
                    <input type="password" class="mono" name="key" autocomplete="off" spellcheck="false" bind:value=key />
                </label>
            </form>
            // Not a live region: it renders again on every keystroke, and a screen reader would
            // read the whole decode each time. Only its problems are announced, from regions on
            // the page before them (components/live): the input's first, the BTHome decode's
            // after its objects.
            <section class="decode-result" aria-label="Decoded">
                <LiveRegion kind=Live::Alert>
                    {move || input_error.get().map(|e| view! { <p class="problem">{e}</p> })}
                </LiveRegion>
                {result}
                <LiveRegion kind=Live::Alert>
                    {move || bthome_error.get().map(|(e, link)| view! {
                        <p
                            class="problem"
                            data-row-link=link
                            class:linked=move || active.get() == Some(link)
                        >
                            {e}
                        </p>
                    })}
                </LiveRegion>
                {tail}
            </section>
        </section>
    }
}
