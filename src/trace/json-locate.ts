import { quoteInput } from "../errors.js";

/**
 * Line numbers for a JSON document that JSON.parse has already accepted: JSON.parse gives
 * values but no positions, and errors must say `file:line`. One pass over the text records
 * the line where each value up to `maxDepth` starts, keyed by its path (`/events/3`,
 * `/tunables/vm.swappiness`). Values deeper than maxDepth are skipped without recursion, so
 * any depth JSON.parse accepts is fine. `dups`, when given, gets each key that appears a
 * second time in an object whose keys are within maxDepth (JSON.parse keeps the last value
 * silently), with the line of its second appearance.
 */
export function locateJson(text: string, maxDepth = 3, dups?: { path: string; key: string; line: number }[]): Map<string, number> {
  const where = new Map<string, number>();
  let line = 1;
  let i = 0;
  const n = text.length;

  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) break;
      i++;
    }
  };
  const readString = (): string => {
    const start = i; // at the opening quote
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 34) {
        i++;
        break;
      } else i++;
    }
    return JSON.parse(text.slice(start, i)) as string;
  };
  /** Skips a value below maxDepth without recursion (a document may nest 100,000 deep). */
  const skipDeep = (): void => {
    let open = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 92) i += 2;
          else if (d === 34) break;
          else i++;
        }
        i++;
      } else if (c === 123 || c === 91) {
        open++;
        i++;
      } else if (c === 125 || c === 93) {
        if (open === 0) return;
        open--;
        i++;
      } else if (c === 44 && open === 0) return;
      else {
        if (c === 10) line++;
        i++;
      }
      if (open === 0 && (c === 125 || c === 93 || c === 34)) return;
    }
  };
  const value = (path: string, depth: number): void => {
    skipWs();
    if (depth > maxDepth) return skipDeep();
    where.set(path, line);
    const c = text.charCodeAt(i);
    if (c === 123) {
      i++;
      skipWs();
      if (text.charCodeAt(i) === 125) {
        i++;
        return;
      }
      const seen = dups !== undefined && depth + 1 <= maxDepth ? new Set<string>() : null;
      for (;;) {
        skipWs();
        const keyLine = line;
        const key = readString();
        if (seen !== null) {
          if (seen.has(key)) dups!.push({ path: `${path}/${key}`, key, line: keyLine });
          seen.add(key);
        }
        if (depth + 1 <= maxDepth) where.set(`${path}/${key}`, keyLine);
        skipWs();
        i++; // colon
        value(`${path}/${key}`, depth + 1);
        skipWs();
        if (text.charCodeAt(i++) === 125) return;
      }
    } else if (c === 91) {
      i++;
      skipWs();
      if (text.charCodeAt(i) === 93) {
        i++;
        return;
      }
      for (let k = 0; ; k++) {
        value(`${path}/${k}`, depth + 1);
        skipWs();
        if (text.charCodeAt(i++) === 93) return;
      }
    } else if (c === 34) {
      readString();
    } else {
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9) break;
        i++;
      }
    }
  };
  value("", 0);
  return where;
}

/**
 * The first key that appears twice in one object of `text` (which JSON.parse accepted), at
 * most maxDepth deep (1: the top object's keys), and the line of its second appearance; null
 * when none. JSON.parse keeps the last value silently; a trace says which it meant instead.
 */
export function duplicateKey(text: string, maxDepth: number): { path: string; key: string; line: number } | null {
  const dups: { path: string; key: string; line: number }[] = [];
  locateJson(text, maxDepth, dups);
  return dups[0] ?? null;
}

/**
 * The error text for a key locateJson found twice: `key "K" appears twice (in /PATH)`, the
 * object's path, or `top` (e.g. "the document") for the top object's keys, or nothing
 * without `top`.
 */
export function duplicateKeyMessage(dup: { path: string; key: string }, top?: string): string {
  const parent = dup.path.slice(0, dup.path.lastIndexOf("/")) || top;
  return `key ${quoteInput(dup.key)} appears twice${parent ? ` (in ${parent})` : ""}`;
}

/** Line of a JSON.parse error, from the "position N" in V8's message (1 when unknown). */
export function jsonErrorLine(text: string, err: unknown): number {
  const msg = String((err as Error)?.message ?? err);
  const m = /position (\d+)/.exec(msg);
  let pos: number;
  if (m) pos = Math.min(Number(m[1]), text.length);
  else {
    // V8's other form quotes the text around the error, `Unexpected token ']', ..."2000"},\n  ]\n}\n" is
    // not valid JSON` (up to 10 characters before the token, "..." where it cut): found back in
    // the text, the token is where it points
    const q = /^Unexpected token '(.)', (\.\.\.)?"([\s\S]*?)"(\.\.\.)? is not valid JSON$/.exec(msg);
    if (!q) return /end of JSON input/.test(msg) ? text.split("\n").length - (text.endsWith("\n") ? 1 : 0) : 1;
    const snippet = q[3]!.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" })[c]!);
    const at = text.indexOf(snippet);
    if (at < 0 || text.indexOf(snippet, at + 1) >= 0) return 1;
    pos = at + (q[2] ? 10 : snippet.indexOf(q[1]!));
  }
  if (pos >= text.length && text.endsWith("\n")) pos = text.length - 1; // the end: the last line, not the empty one after it
  let line = 1;
  for (let k = 0; k < pos; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** The closest recorded line for a path: the path itself, or its nearest ancestor. */
export function lineOf(where: Map<string, number>, path: string): number {
  let p = path;
  for (;;) {
    const l = where.get(p);
    if (l !== undefined) return l;
    const cut = p.lastIndexOf("/");
    if (cut < 0) return 1;
    p = p.slice(0, cut);
  }
}
