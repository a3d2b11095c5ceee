/**
 * Server-sent events as the HTTP Responses API streams them: `event:`/`data:` lines, a blank line
 * between events. Feeds arbitrary chunks; yields each complete event's data.
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];

  /** Returns the `data` payloads of the events completed by this chunk. */
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const complete: string[] = [];
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line === '') {
        if (this.#data.length > 0) complete.push(this.#data.join('\n'));
        this.#data = [];
      } else if (line.startsWith('data:')) {
        this.#data.push(line.slice(5).replace(/^ /, ''));
      }
      // `event:`, `id:`, `retry:` and comments carry nothing the payload does not.
    }
    return complete;
  }
}
