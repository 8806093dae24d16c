// Bech32m (BIP 350) text for byte strings, as the Rust `bech32` crate writes
// and reads account ids (`assent1…`).
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST = 0x2bc830a3;
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
function polymod(values) {
    let chk = 1;
    for (const v of values) {
        const top = chk >>> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        for (let i = 0; i < 5; i++)
            if ((top >>> i) & 1)
                chk ^= GEN[i];
    }
    return chk >>> 0;
}
function hrpExpand(hrp) {
    const out = [];
    for (let i = 0; i < hrp.length; i++)
        out.push(hrp.charCodeAt(i) >> 5);
    out.push(0);
    for (let i = 0; i < hrp.length; i++)
        out.push(hrp.charCodeAt(i) & 31);
    return out;
}
function toWords(bytes) {
    const out = [];
    let acc = 0;
    let bits = 0;
    for (const b of bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push((acc >> bits) & 31);
        }
        acc &= (1 << bits) - 1;
    }
    if (bits > 0)
        out.push((acc << (5 - bits)) & 31);
    return out;
}
function fromWords(words) {
    const out = [];
    let acc = 0;
    let bits = 0;
    for (const w of words) {
        acc = (acc << 5) | w;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push((acc >> bits) & 0xff);
        }
        acc &= (1 << bits) - 1;
    }
    if (bits >= 5)
        return "it has a superfluous padding group";
    if (acc !== 0)
        return "its padding bits are not zero";
    return Uint8Array.from(out);
}
/** Bech32m text of `data` under the human-readable part `hrp` (lower case). */
export function encode(hrp, data) {
    const words = toWords(data);
    const mod = polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ BECH32M_CONST;
    const checksum = [];
    for (let i = 0; i < 6; i++)
        checksum.push((mod >>> (5 * (5 - i))) & 31);
    return hrp + "1" + [...words, ...checksum].map((w) => CHARSET[w]).join("");
}
/** The hrp and bytes of bech32m text, or a reason it is not valid bech32m. */
export function decode(text) {
    if (text !== text.toLowerCase() && text !== text.toUpperCase())
        return { error: "it mixes upper and lower case" };
    const s = text.toLowerCase();
    const sep = s.lastIndexOf("1");
    if (sep < 1)
        return { error: "it has no human-readable part before a `1` separator" };
    if (s.length - sep - 1 < 6)
        return { error: "it is too short to hold a checksum" };
    const hrp = s.slice(0, sep);
    for (let i = 0; i < hrp.length; i++) {
        const c = hrp.charCodeAt(i);
        if (c < 33 || c > 126)
            return { error: "its human-readable part has a character outside ASCII 33-126" };
    }
    const words = [];
    for (const ch of s.slice(sep + 1)) {
        const w = CHARSET.indexOf(ch);
        if (w < 0)
            return { error: `\`${ch}\` is not a bech32 character` };
        words.push(w);
    }
    const check = polymod([...hrpExpand(hrp), ...words]);
    if (check !== BECH32M_CONST)
        return { error: "its checksum is wrong (a typo?)" };
    const data = fromWords(words.slice(0, -6));
    if (typeof data === "string")
        return { error: data };
    return { hrp, data };
}
