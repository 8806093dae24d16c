// Ratings as the chain holds them: GET /v1/consumers/{id}/consents gives each
// consent its `rating` (the score 1–5 the consumer gave the enterprise under
// it, or null when not rated). Nothing about ratings is kept in the browser.
// No DOM here: unit-tested under Node.
/** The score given under a consent, as the chain says; null when not rated (or the node said nothing). */
export function ratingOf(c) {
    return typeof c.rating === "number" ? c.rating : null;
}
/**
 * My consents with `enterprise`, split into those already rated, with their
 * score (shown, not offered again: the ledger takes one rating per consent),
 * and those I may still rate with.
 */
export function ratingsWith(consents, enterprise) {
    const rated = [];
    const open = [];
    for (const c of consents) {
        if (c.enterprise !== enterprise)
            continue;
        const score = ratingOf(c);
        if (score === null)
            open.push(c);
        else
            rated.push({ consent: c, score });
    }
    return { rated, open };
}
