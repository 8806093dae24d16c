// A small server-sent-events parser (the WHATWG event-stream format) for the
// node's `/v1/events`, read with fetch and a body reader because EventSource
// cannot send the signed-read headers. Pure: fed text chunks, gives events.
export class SseParser {
    buffer = "";
    event = "";
    data = [];
    id = null;
    /** Feeds a chunk of text; returns the events it completes. */
    push(chunk) {
        this.buffer += chunk;
        const out = [];
        for (;;) {
            const m = /\r\n|\r|\n/.exec(this.buffer);
            if (!m)
                break;
            // A lone CR at the very end may be the first half of CRLF: wait for more.
            if (m[0] === "\r" && m.index === this.buffer.length - 1)
                break;
            const line = this.buffer.slice(0, m.index);
            this.buffer = this.buffer.slice(m.index + m[0].length);
            const e = this.line(line);
            if (e)
                out.push(e);
        }
        return out;
    }
    line(line) {
        if (line === "") {
            if (this.data.length === 0 && this.event === "")
                return null;
            const e = { event: this.event || "message", data: this.data.join("\n"), id: this.id };
            this.event = "";
            this.data = [];
            this.id = null;
            return e;
        }
        if (line.startsWith(":"))
            return null; // a comment (keep-alive)
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? "" : line.slice(i + 1);
        if (value.startsWith(" "))
            value = value.slice(1);
        if (field === "event")
            this.event = value;
        else if (field === "data")
            this.data.push(value);
        else if (field === "id")
            this.id = value;
        return null;
    }
}
