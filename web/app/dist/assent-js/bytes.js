// Byte helpers: hex, base64, UTF-8, concatenation. No dependencies.
/** Lowercase hex of `bytes`. */
export function toHex(bytes) {
    let s = "";
    for (const b of bytes)
        s += b.toString(16).padStart(2, "0");
    return s;
}
/**
 * Bytes of a hex string (either case, even length, nothing else).
 * `what` names the value in the error.
 */
export function fromHex(hex, what = "hex value", len) {
    if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
        throw new Error(`${what} must be hex text (an even number of 0-9 a-f characters), got ${show(hex)}`);
    }
    if (len !== undefined && hex.length !== len * 2) {
        throw new Error(`${what} must be ${len} bytes (${len * 2} hex characters), got ${hex.length} characters`);
    }
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++)
        out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
}
/** Concatenates byte arrays. */
export function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
        out.set(p, at);
        at += p.length;
    }
    return out;
}
export function utf8(s) {
    return new TextEncoder().encode(s);
}
/** Strict UTF-8 decoding: invalid bytes are an error, never U+FFFD. */
export function fromUtf8(bytes, what = "text") {
    try {
        return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    }
    catch {
        throw new Error(`${what} is not valid UTF-8`);
    }
}
/** Standard base64 with padding (RFC 4648 section 4), as Rust's `STANDARD` engine. */
export function toBase64(bytes) {
    let bin = "";
    for (const b of bytes)
        bin += String.fromCharCode(b);
    return btoa(bin);
}
export function equalBytes(a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++)
        if (a[i] !== b[i])
            return false;
    return true;
}
/** A short rendering of any value for error messages. */
export function show(v) {
    if (typeof v === "bigint")
        return `${v}n`;
    if (typeof v === "string")
        return JSON.stringify(v.length > 80 ? v.slice(0, 80) + "…" : v);
    if (v instanceof Uint8Array)
        return `${v.length} bytes`;
    try {
        const s = JSON.stringify(v);
        return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 80) + "…" : s;
    }
    catch {
        return String(v);
    }
}
