// "What you see is what you sign": a plain-English description of a decoded
// tx body, to show before signing the bytes it was decoded from.
function list(xs) {
    if (xs.length <= 1)
        return xs.join("");
    return `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}
function points(n) {
    return `${String(n)} point${String(n) === "1" ? "" : "s"}`;
}
function when(ms) {
    const n = Number(ms);
    return Number.isSafeInteger(n) && n < 8.64e15 ? new Date(n).toISOString() : `${String(ms)} ms`;
}
// Only the count: which tags a commitment is takes the key (`recoverTags`).
function commitments(t) {
    const n = t.commitments.length;
    if (n === 0)
        return "no interest tags";
    return `${n} tag commitment${n === 1 ? "" : "s"} (epoch ${String(t.epoch)}; salted, so which tags they are is not in the tx)`;
}
function describeUse(u, i) {
    const basis = "consent" in u.basis ? `consent ${u.basis.consent}` : `policy ${u.basis.policy}`;
    return `  #${i}: ${u.units} unit${u.units === 1 ? "" : "s"} of ${u.consumer}'s ${u.category} data for ${u.purpose} at level ${u.level}, under ${basis} (evidence ${u.evidence_hash})`;
}
/** One paragraph saying what a payload does. */
export function describePayload(p) {
    switch (p.kind) {
        case "RegisterConsumer":
            return `register as a consumer with ${commitments(p.tags)}`;
        case "SetTags":
            return p.tags.commitments.length ? `set my interest tags to ${commitments(p.tags)}` : "clear my interest tags";
        case "GrantConsent": {
            const extra = [
                p.max_uses != null ? `at most ${String(p.max_uses)} units of use` : "no limit on uses",
                p.expires_at != null ? `until ${when(p.expires_at)}` : "no expiry",
            ];
            if (p.request != null)
                extra.push(`answering request ${p.request}`);
            return `grant ${p.enterprise} ${list(p.purposes)} on ${list(p.categories)} data at level ${p.level} for ${points(p.price_per_use)} per use (${extra.join(", ")})`;
        }
        case "RevokeConsent":
            return `revoke consent ${p.consent}`;
        case "PauseConsent":
            return `pause consent ${p.consent}`;
        case "ResumeConsent":
            return `resume consent ${p.consent}`;
        case "RevokeAll":
            return p.enterprise != null ? `revoke every consent to ${p.enterprise}` : "revoke every consent to every enterprise";
        case "SetPolicy": {
            const who = "sector" in p.target ? `any ${p.target.sector} enterprise` : p.target.enterprise;
            return `let ${who} use my ${list(p.categories)} data for ${list(p.purposes)} at level ${p.level} for ${points(p.min_price)} per use`;
        }
        case "ClearPolicy":
            return `clear policy ${p.policy}`;
        case "PostRequest":
            return `ask consumers${p.target_tags.length ? ` tagged ${list(p.target_tags)}` : ""} for ${list(p.purposes)} on ${list(p.categories)} data at level ${p.level} for ${points(p.price_per_use)} per use, open for ${String(p.duration_ms)} ms`;
        case "RecordUse":
            return [`record ${p.uses.length} use${p.uses.length === 1 ? "" : "s"} of consumers' data:`, ...p.uses.map(describeUse)].join("\n");
        case "Rate":
            return `rate ${p.enterprise} ${p.score} of 5 (consent ${p.consent})`;
        case "Transfer":
            return `transfer ${points(p.amount)} to ${p.to}`;
    }
}
/** What a tx body says, sender and nonce first. */
export function describeTx(body) {
    return `${body.sender} (nonce ${String(body.nonce)}): ${describePayload(body.payload)}`;
}
