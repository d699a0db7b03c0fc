//! The Decode page: paste hex, see every field, share the decode as a link (never the key).

use leptos::prelude::*;

use crate::platform;
use crate::state::decode::{DecodeInput, DecodeView, Field, InputKind, decode};
use crate::state::settings::Settings;

fn fields(list: Vec<Field>) -> impl IntoView {
    list.into_iter()
        .map(|f| {
            view! {
                <tr>
                    <th scope="row">{f.name}</th>
                    <td class="mono">{f.value}</td>
                </tr>
            }
        })
        .collect_view()
}

fn result_view(view_model: DecodeView) -> impl IntoView {
    let DecodeView {
        input_error,
        structures,
        bthome,
        shelly,
        note,
    } = view_model;
    view! {
        {input_error.map(|e| view! { <p class="problem" role="alert">{e}</p> })}
        {(!structures.is_empty()).then(|| view! {
            <h2>"AD structures"</h2>
            <table class="decode-table">
                <thead><tr><th scope="col">"Type"</th><th scope="col">"Content"</th></tr></thead>
                <tbody>{fields(structures)}</tbody>
            </table>
        })}
        {bthome.map(|b| view! {
            <h2>"BTHome"</h2>
            <table class="decode-table">
                <tbody>{fields(b.header)}</tbody>
            </table>
            <table class="decode-table objects">
                <thead>
                    <tr>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"Unit"</th>
                    </tr>
                </thead>
                <tbody>
                    {b.objects.into_iter().map(|(id, name, value, unit)| view! {
                        <tr>
                            <td class="mono">{id}</td>
                            <td>{name}</td>
                            <td class="mono">{value}</td>
                            <td>{unit}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {b.error.map(|e| view! { <p class="problem" role="alert">{e}</p> })}
        })}
        {(!shelly.is_empty()).then(|| view! {
            <h2>"Shelly manufacturer data"</h2>
            <table class="decode-table"><tbody>{fields(shelly)}</tbody></table>
        })}
        {note.map(|n| view! { <p class="note">{n}</p> })}
    }
}

/// Paste an advertisement in hex and see every field decoded.
#[component]
pub fn DecodePage() -> impl IntoView {
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
    let result = move || result_view(decode(&input.get(), &key.get(), &settings));
    view! {
        <section class="page decode-page">
            <h1>"Decode"</h1>
            <p class="lead">"Paste an advertisement in hex and see every field decoded. The link of this page carries the input (never the bind key), so a decode can be shared."</p>
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
                <Show when=move || kind.get() == InputKind::ServiceData>
                    <label>
                        "Service UUID "
                        <input type="text" class="mono" name="uuid" spellcheck="false" bind:value=uuid />
                    </label>
                </Show>
                <Show when=move || kind.get() == InputKind::ManufacturerData>
                    <label>
                        "Company id "
                        <input type="text" class="mono" name="company" spellcheck="false" bind:value=company />
                    </label>
                </Show>
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
            <section class="decode-result" aria-live="polite" aria-label="Decoded">{result}</section>
        </section>
    }
}
