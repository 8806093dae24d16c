// A few DOM helpers: elements are built with text nodes only (no innerHTML),
// so nothing from the chain can become markup.
export function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false)
            continue;
        if (k.startsWith("on:"))
            el.addEventListener(k.slice(3), v);
        else if (k === "value" && "value" in el)
            el.value = String(v);
        else if (k === "checked" && el instanceof HTMLInputElement)
            el.checked = Boolean(v);
        else
            el.setAttribute(k, v === true ? "" : String(v));
    }
    append(el, children);
    return el;
}
export function append(el, children) {
    for (const c of children.flat()) {
        if (c === null || c === undefined || c === false)
            continue;
        el.append(typeof c === "number" ? String(c) : c);
    }
}
const SVG = "http://www.w3.org/2000/svg";
/** An SVG element (charts are drawn by the app's own code). */
export function s(tag, attrs = {}, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs))
        el.setAttribute(k, String(v));
    for (const c of children)
        el.append(c);
    return el;
}
let nextId = 0;
/** A fresh element id, to tie a label to its control. */
export function uid(prefix = "f") {
    nextId += 1;
    return `${prefix}-${nextId}`;
}
/** Saves `data` as a file through a Blob link (no server round trip). */
export function download(name, data) {
    const url = URL.createObjectURL(data);
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
