// The subset of bincode 2.0.1 (serde, `config::standard()`: little endian,
// variable-length integers) that the ledger's tx formats use; see
// contracts/src/codec.rs. Decoding is as strict as the ledger's: only the
// canonical (shortest) integer forms, option tags 0 and 1, valid UTF-8, and
// no trailing bytes.
import { fromUtf8, show, utf8 } from "./bytes.js";
const U64_MAX = (1n << 64n) - 1n;
/** Checks and converts a u64 input; `what` names the field in the error. */
export function toU64(v, what) {
    let n;
    if (typeof v === "bigint") {
        n = v;
    }
    else if (typeof v === "number") {
        if (!Number.isSafeInteger(v)) {
            throw new Error(`${what} must be a whole number (use a bigint or decimal text above 2^53), got ${show(v)}`);
        }
        n = BigInt(v);
    }
    else if (typeof v === "string" && /^[0-9]{1,20}$/.test(v)) {
        n = BigInt(v);
    }
    else {
        throw new Error(`${what} must be a whole number (number, bigint or decimal text), got ${show(v)}`);
    }
    if (n < 0n || n > U64_MAX)
        throw new Error(`${what} must be between 0 and 2^64-1, got ${n}`);
    return n;
}
/** A u64 read back: a number when it is a safe integer, else decimal text (no precision lost). */
export function fromU64(n) {
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}
function checkInt(v, what, max) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
        throw new Error(`${what} must be a whole number from 0 to ${max}, got ${show(v)}`);
    }
    return v;
}
/** Appends bincode encodings to a growing buffer. */
export class Writer {
    buf = new Uint8Array(256);
    len = 0;
    reserve(n) {
        if (this.len + n <= this.buf.length)
            return;
        let cap = this.buf.length * 2;
        while (cap < this.len + n)
            cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(0, this.len));
        this.buf = next;
    }
    /** Raw bytes with no length (fixed-size arrays: keys, hashes, signatures). */
    raw(bytes) {
        this.reserve(bytes.length);
        this.buf.set(bytes, this.len);
        this.len += bytes.length;
        return this;
    }
    /** A u8: always one byte, never a varint. */
    u8(v, what = "u8") {
        return this.raw(Uint8Array.of(checkInt(v, what, 0xff)));
    }
    /** A u64 (also usize lengths) as a varint. */
    u64(v, what = "u64") {
        const n = toU64(v, what);
        if (n < 251n)
            return this.raw(Uint8Array.of(Number(n)));
        if (n <= 0xffffn)
            return this.le(251, n, 2);
        if (n <= 0xffffffffn)
            return this.le(252, n, 4);
        return this.le(253, n, 8);
    }
    /** A u32 (also enum variant indices) as a varint. */
    u32(v, what = "u32") {
        return this.u64(checkInt(v, what, 0xffffffff), what);
    }
    le(marker, n, width) {
        const out = new Uint8Array(1 + width);
        out[0] = marker;
        for (let i = 0; i < width; i++)
            out[1 + i] = Number((n >> BigInt(8 * i)) & 0xffn);
        return this.raw(out);
    }
    /** A string: varint byte length, then UTF-8. */
    str(v, what = "string") {
        if (typeof v !== "string")
            throw new Error(`${what} must be a string, got ${show(v)}`);
        const b = utf8(v);
        return this.u64(b.length).raw(b);
    }
    /** An enum variant index. */
    variant(i) {
        return this.u32(i);
    }
    /** An `Option`: tag 0 (None) or 1 then the value. `null` and `undefined` are None. */
    option(v, f) {
        if (v === null || v === undefined)
            return this.raw(Uint8Array.of(0));
        this.raw(Uint8Array.of(1));
        f(this, v);
        return this;
    }
    /** A `Vec`: varint length, then each element. */
    seq(v, what, f) {
        if (!Array.isArray(v))
            throw new Error(`${what} must be an array, got ${show(v)}`);
        this.u64(v.length);
        v.forEach((item, i) => f(this, item, i));
        return this;
    }
    bytes() {
        return this.buf.slice(0, this.len);
    }
}
/** Reads bincode from a byte array, refusing every non-canonical form. */
export class Reader {
    buf;
    at = 0;
    constructor(buf) {
        this.buf = buf;
    }
    get offset() {
        return this.at;
    }
    fail(why) {
        throw new Error(`malformed encoding at byte ${this.at}: ${why}`);
    }
    raw(n, what = "bytes") {
        if (this.buf.length - this.at < n) {
            this.fail(`${what} needs ${n} bytes, only ${this.buf.length - this.at} left`);
        }
        const out = this.buf.slice(this.at, this.at + n);
        this.at += n;
        return out;
    }
    u8(what = "u8") {
        return this.raw(1, what)[0];
    }
    le(width, what) {
        const b = this.raw(width, what);
        let n = 0n;
        for (let i = width - 1; i >= 0; i--)
            n = (n << 8n) | BigInt(b[i]);
        return n;
    }
    /** A varint of at most `maxWidth` bytes (8 for u64, 4 for u32), shortest form only. */
    varint(maxWidth, what) {
        const start = this.at;
        const m = this.u8(what);
        let n;
        let min;
        if (m < 251)
            return BigInt(m);
        if (m === 251)
            [n, min] = [this.le(2, what), 251n];
        else if (m === 252 && maxWidth >= 4)
            [n, min] = [this.le(4, what), 0x10000n];
        else if (m === 253 && maxWidth >= 8)
            [n, min] = [this.le(8, what), 0x100000000n];
        else {
            this.at = start;
            this.fail(`${what}: integer marker ${m} is not allowed for a ${maxWidth * 8}-bit integer`);
        }
        if (n < min) {
            this.at = start;
            this.fail(`${what}: non-canonical (over-long) integer ${n}`);
        }
        return n;
    }
    u64(what = "u64") {
        return this.varint(8, what);
    }
    u32(what = "u32") {
        return Number(this.varint(4, what));
    }
    /** A length prefix, checked against the bytes left (each element takes at least one). */
    length(what) {
        const n = this.u64(`length of ${what}`);
        if (n > BigInt(this.buf.length - this.at)) {
            this.fail(`${what} claims ${n} items, more than the ${this.buf.length - this.at} bytes left`);
        }
        return Number(n);
    }
    str(what = "string") {
        const n = this.length(what);
        return fromUtf8(this.raw(n, what), what);
    }
    variant(what) {
        return this.u32(`variant of ${what}`);
    }
    option(what, f) {
        const tag = this.u8(`option tag of ${what}`);
        if (tag === 0)
            return null;
        if (tag === 1)
            return f(this);
        this.at -= 1;
        return this.fail(`option tag of ${what} is ${tag}, not 0 or 1`);
    }
    seq(what, f) {
        const n = this.length(what);
        const out = [];
        for (let i = 0; i < n; i++)
            out.push(f(this, i));
        return out;
    }
    /** Refuses trailing bytes. */
    end() {
        if (this.at !== this.buf.length) {
            throw new Error(`${this.buf.length - this.at} trailing bytes after the encoded value`);
        }
    }
}
