/**
 * Reads the curl walkthrough out of README.md and compares what the commands print with the
 * answers the README shows. Ids and timestamps differ from run to run, so an id in the README
 * matches any id — but the same README id must always stand for the same real id — and a
 * timestamp matches any timestamp. Everything else must be equal.
 */

/** A `<!-- curl-test -->` shell block and the answer block right after it. */
export interface Example {
  line: number;
  script: string;
  expected: { lang: 'http' | 'json' | 'text'; text: string };
}

const FENCE = /^```(\w*)\n([\s\S]*?)^```\n/gm;

export function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  const fences = [...markdown.matchAll(FENCE)];
  fences.forEach((fence, i) => {
    const before = markdown.slice(0, fence.index).trimEnd();
    if (fence[1] !== 'sh' || !before.endsWith('<!-- curl-test -->')) return;
    const answer = fences[i + 1];
    const line = markdown.slice(0, fence.index).split('\n').length;
    if (!answer || !['http', 'json', 'text'].includes(answer[1]!)) {
      throw new Error(`README line ${line}: a curl-test block must be followed by an http, json or text block`);
    }
    examples.push({ line, script: fence[2]!, expected: { lang: answer[1] as Example['expected']['lang'], text: answer[2]! } });
  });
  return examples;
}

const ID = /^[0-9a-f]{24}$/;
const IDS = /[0-9a-f]{24}/g;
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Compares documented with actual output, keeping one id mapping across the whole README. */
export class AnswerChecker {
  readonly #ids = new Map<string, string>();
  readonly #reverse = new Map<string, string>();

  #sameId(documented: string, actual: string): boolean {
    const known = this.#ids.get(documented);
    if (known !== undefined) return known === actual;
    if (this.#reverse.has(actual)) return false;
    this.#ids.set(documented, actual);
    this.#reverse.set(actual, documented);
    return true;
  }

  /** Text with ids in it (headers, plain output): ids are mapped, the rest must be equal. */
  #sameText(documented: string, actual: string): boolean {
    const documentedIds = documented.match(IDS) ?? [];
    const actualIds = actual.match(IDS) ?? [];
    if (documented.replace(IDS, '<id>') !== actual.replace(IDS, '<id>') || documentedIds.length !== actualIds.length) return false;
    return documentedIds.every((id, i) => this.#sameId(id, actualIds[i]!));
  }

  #sameValue(documented: unknown, actual: unknown, path: string, problems: string[]): void {
    if (typeof documented === 'string' && typeof actual === 'string') {
      if (
        ID.test(documented)
          ? ID.test(actual) && this.#sameId(documented, actual)
          : ISO_DATE.test(documented)
            ? ISO_DATE.test(actual)
            : this.#sameText(documented, actual)
      )
        return;
    } else if (Array.isArray(documented) && Array.isArray(actual)) {
      if (documented.length !== actual.length) problems.push(`${path}: ${actual.length} items, README shows ${documented.length}`);
      else for (const [i, d] of documented.entries()) this.#sameValue(d, actual[i], `${path}[${i}]`, problems);
      return;
    } else if (documented && actual && typeof documented === 'object' && typeof actual === 'object' && !Array.isArray(actual)) {
      const keys = (o: object) => Object.keys(o).sort().join(',');
      if (keys(documented) !== keys(actual)) {
        problems.push(`${path}: keys ${keys(actual)}, README shows ${keys(documented)}`);
        return;
      }
      for (const [key, value] of Object.entries(documented))
        this.#sameValue(value, (actual as Record<string, unknown>)[key], `${path}.${key}`, problems);
      return;
    } else if (documented === actual) {
      return;
    }
    problems.push(`${path}: got ${JSON.stringify(actual)}, README shows ${JSON.stringify(documented)}`);
  }

  /** Several JSON values, one after another (pretty-printed or one per line). */
  static parseJsonSequence(text: string): unknown[] {
    const values: unknown[] = [];
    let pending = '';
    for (const line of text.split('\n')) {
      pending += `${line}\n`;
      if (!pending.trim()) continue;
      try {
        values.push(JSON.parse(pending));
        pending = '';
      } catch {
        // not a complete value yet
      }
    }
    if (pending.trim()) throw new Error(`not JSON: ${pending.trim().slice(0, 200)}`);
    return values;
  }

  #sameJson(documented: string, actual: string, problems: string[]): void {
    let got: unknown[];
    try {
      got = AnswerChecker.parseJsonSequence(actual);
    } catch (error) {
      problems.push(String(error));
      return;
    }
    this.#sameValue(AnswerChecker.parseJsonSequence(documented), got, 'output', problems);
  }

  /** The differences between what the README shows and what the commands printed (empty: same). */
  check(expected: Example['expected'], actual: string): string[] {
    const problems: string[] = [];
    if (expected.lang === 'json') {
      this.#sameJson(expected.text, actual, problems);
    } else if (expected.lang === 'text') {
      if (!this.#sameText(expected.text.trim(), actual.trim())) problems.push(`got ${JSON.stringify(actual.trim())}`);
    } else {
      this.#checkHttp(expected.text, actual.replace(/\r\n/g, '\n'), problems);
    }
    return problems;
  }

  #checkHttp(documented: string, actual: string, problems: string[]): void {
    const split = (text: string) => {
      const blank = text.indexOf('\n\n');
      return blank === -1 ? [text.trim(), ''] : [text.slice(0, blank).trim(), text.slice(blank + 2).trim()];
    };
    const [documentedHead = '', documentedBody = ''] = split(documented);
    const [actualHead = '', actualBody = ''] = split(actual);
    const [documentedStatus, ...documentedHeaders] = documentedHead.split('\n');
    const [actualStatus, ...actualHeaders] = actualHead.split('\n');
    if (documentedStatus !== actualStatus)
      problems.push(`status line ${JSON.stringify(actualStatus)}, README shows ${JSON.stringify(documentedStatus)}`);
    const headers = new Map(actualHeaders.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
    for (const header of documentedHeaders) {
      const name = header.slice(0, header.indexOf(':')).toLowerCase();
      const value = header.slice(header.indexOf(':') + 1).trim();
      const got = headers.get(name);
      if (got === undefined || !this.#sameText(value, got))
        problems.push(`header ${name}: ${JSON.stringify(got)}, README shows ${JSON.stringify(value)}`);
    }
    if (documentedBody) this.#sameJson(documentedBody, actualBody, problems);
    else if (actualBody) problems.push(`unexpected body ${JSON.stringify(actualBody.slice(0, 200))}`);
  }
}
