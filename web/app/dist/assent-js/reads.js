// Signed reads: RFC 9421 HTTP message signatures over a read request, exactly
// as keys/src/reads.rs makes and checks them.
//
//   Signature-Input: assent=("@method" "@path" "@query");created=…;expires=…;nonce="…";keyid="assent1…";alg="ed25519";tag="assent-read"
//   Signature: assent=:<base64 of 64 bytes>:
//
// The bytes signed are `assent/read/v1 || len(chain id) || chain id || base`.
import { toBase64, toHex, utf8 } from "./bytes.js";
import { signingMessage } from "./tx.js";
export const READ_SIGNATURE_TAG = "assent/read/v1";
export const LABEL = "assent";
export const COMPONENTS = '("@method" "@path" "@query")';
export const TAG = "assent-read";
/** Longest validity (`expires - created`) a node accepts, in seconds. */
export const MAX_LIFETIME_S = 300;
/** Lifetime the clients give their signatures, in seconds. */
export const DEFAULT_LIFETIME_S = 60;
export const MAX_NONCE = 64;
/** `(path, query)` of a request target; the query is null when there is no `?`. */
export function splitTarget(target) {
    const i = target.indexOf("?");
    return i < 0 ? [target, null] : [target.slice(0, i), target.slice(i + 1)];
}
/** The inner list and parameters as `Signature-Input` carries them after `assent=`. */
export function serializeParams(p) {
    return `${COMPONENTS};created=${p.created};expires=${p.expires};nonce="${p.nonce}";keyid="${p.keyid}";alg="ed25519";tag="${TAG}"`;
}
/** The RFC 9421 signature base of a request. */
export function signatureBase(method, path, query, params) {
    return `"@method": ${method}\n"@path": ${path}\n"@query": ?${query ?? ""}\n"@signature-params": ${params}`;
}
function seconds(v, what) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 999_999_999_999_999) {
        throw new Error(`${what} must be Unix seconds, a whole number, got ${String(v)}`);
    }
    return v;
}
/** A fresh random nonce: 16 random bytes as hex, as the Rust clients make. */
export function randomNonce() {
    return toHex(crypto.getRandomValues(new Uint8Array(16)));
}
/**
 * Signs `method target` (`target` = path and optional `?query`, exactly as the
 * request will carry them) for `chainId`. By default valid from now for
 * [`DEFAULT_LIFETIME_S`] with a random nonce; tests pass fixed `created`,
 * `expires` and `nonce`.
 */
export async function signRead(key, chainId, method, target, options = {}) {
    if (!/^[A-Z]+$/.test(method))
        throw new Error(`method must be an upper-case HTTP method such as GET, got ${JSON.stringify(method)}`);
    if (!target.startsWith("/"))
        throw new Error(`target must be a path starting with /, got ${JSON.stringify(target)}`);
    if (/[\s]/.test(target))
        throw new Error("target must not contain white space; percent-encode it");
    const created = seconds(options.created ?? Math.floor(Date.now() / 1000), "created");
    const expires = seconds(options.expires ?? created + DEFAULT_LIFETIME_S, "expires");
    if (expires < created || expires - created > MAX_LIFETIME_S) {
        throw new Error(`expires must be 0 to ${MAX_LIFETIME_S} s after created (got ${created} and ${expires})`);
    }
    const nonce = options.nonce ?? randomNonce();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(nonce)) {
        throw new Error(`the nonce must be 1 to ${MAX_NONCE} characters of A-Z a-z 0-9 - _`);
    }
    const params = serializeParams({ created, expires, nonce, keyid: key.account });
    const [path, query] = splitTarget(target);
    const base = signatureBase(method, path, query, params);
    const sig = await key.signRaw(signingMessage(READ_SIGNATURE_TAG, chainId, utf8(base)));
    return { "Signature-Input": `${LABEL}=${params}`, Signature: `${LABEL}=:${toBase64(sig)}:` };
}
