// Which public requests match me, decided on this machine (ARCHITECTURE.md
// decision 33): a request with no target tags is open to everyone; one with
// target tags matches when it targets one of my tags; a request from an
// enterprise of a sector I follow matches too. Ignored requests are left out.
export function matchRequests(requests, myTags, mySectors, sectorOf, ignored, answered) {
    const tags = new Set(myTags);
    const sectors = new Set(mySectors);
    const skip = new Set([...ignored, ...answered]);
    const out = [];
    for (const r of requests) {
        if (skip.has(r.id) || r.open === false)
            continue;
        const hits = r.target_tags.filter((t) => tags.has(t));
        const openToAll = r.target_tags.length === 0;
        const sector = sectorOf(r.enterprise);
        const bySector = sector !== undefined && sectors.has(sector);
        if (hits.length > 0 || openToAll || bySector) {
            out.push({ request: r, tags: hits, open_to_all: openToAll, by_sector: bySector });
        }
    }
    return out;
}
/** Every tag any request targets: candidates when recovering my tags from their commitments. */
export function targetedTags(requests) {
    return [...new Set(requests.flatMap((r) => r.target_tags))].sort();
}
