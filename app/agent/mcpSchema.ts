/**
 * An MCP server's tool schema is untrusted input. The registry's Ajv tests every `pattern` (and
 * `patternProperties` key) synchronously on the main thread, so one pattern that backtracks
 * catastrophically freezes the whole app. Patterns outside a small safe subset are dropped here,
 * and the tool's description says which ones Parley does not check.
 */

/** A JSON Schema with its unsafe patterns taken out, and a line for each one taken. */
export interface CheckedSchema {
  schema: Record<string, unknown>;
  dropped: string[];
}

const maxPatternLength = 1_000;
/** A quantifier allowing more repeats than this counts as open-ended. */
const longRepeat = 10;
/** More open-ended quantifiers than this in one pattern could make checking it polynomially slow. */
const maxOpenEnded = 2;

/**
 * Why `pattern` is not safe to test synchronously, or null when it is.
 * A static check rather than a worker with a time limit: Ajv tests patterns synchronously inside
 * `ToolRegistry.validate`, so only a pattern that cannot backtrack catastrophically may reach it.
 * Safe means: a valid `u` regular expression of at most 1,000 characters, with no backreferences
 * or lookarounds, no repeated group holding a variable repeat or an ambiguous alternation (star
 * height 1, so no `(a+)+`, `(a|a)*`, `(\w+\s?)*`), and at most two open-ended repeats.
 */
export function unsafePatternReason(pattern: string): string | null {
  if (pattern.length > maxPatternLength) return `it is longer than ${maxPatternLength} characters`;
  try {
    new RegExp(pattern, 'u');
  } catch {
    return 'it is not a valid regular expression';
  }
  let parsed: Term[][];
  try {
    parsed = new PatternParser(pattern).parse();
  } catch (error) {
    return (error as Error).message;
  }
  const problem = checkAlternatives(parsed, false);
  if (problem !== null) return problem;
  if (countOpenEnded(parsed) > maxOpenEnded) return `it has more than ${maxOpenEnded} open-ended repeats, which can take very long to check`;
  return null;
}

/** The schema with every unsafe `pattern` and `patternProperties` key removed. */
export function withoutUnsafePatterns(schema: Record<string, unknown>): CheckedSchema {
  const dropped: string[] = [];
  return { schema: checkSchema(schema, 'arguments', dropped) as Record<string, unknown>, dropped };
}

// Keywords whose value is one subschema, an array of them, or a map of names to them (JSON Schema 2020-12 and draft 7).
const oneSchema = ['additionalProperties', 'propertyNames', 'contains', 'not', 'if', 'then', 'else', 'additionalItems', 'unevaluatedItems', 'unevaluatedProperties'];
const schemaArrays = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const schemaMaps = ['properties', '$defs', 'definitions', 'dependentSchemas'];

function checkSchema(node: unknown, where: string, dropped: string[]): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
  const schema: Record<string, unknown> = { ...(node as Record<string, unknown>) };
  if (typeof schema.pattern === 'string') {
    const reason = unsafePatternReason(schema.pattern);
    if (reason !== null) {
      dropped.push(`the pattern of ${where} (/${truncated(schema.pattern)}/: ${reason})`);
      delete schema.pattern;
    }
  }
  if (isRecord(schema.patternProperties)) {
    const kept: Record<string, unknown> = {};
    let droppedAny = false;
    for (const [pattern, sub] of Object.entries(schema.patternProperties)) {
      const reason = unsafePatternReason(pattern);
      if (reason === null) kept[pattern] = checkSchema(sub, `${where} properties matching /${truncated(pattern)}/`, dropped);
      else {
        droppedAny = true;
        dropped.push(`the property-name pattern /${truncated(pattern)}/ of ${where} (${reason})`);
      }
    }
    schema.patternProperties = kept;
    // The properties it matched would otherwise fall to `additionalProperties` and may be refused.
    if (droppedAny) delete schema.additionalProperties;
  }
  for (const key of oneSchema) {
    if (key in schema) schema[key] = checkSchema(schema[key], where, dropped);
  }
  for (const key of schemaArrays) {
    if (Array.isArray(schema[key])) schema[key] = (schema[key] as unknown[]).map((sub) => checkSchema(sub, where, dropped));
  }
  if (Array.isArray(schema.items)) schema.items = schema.items.map((sub: unknown) => checkSchema(sub, `the items of ${where}`, dropped));
  else if ('items' in schema) schema.items = checkSchema(schema.items, `the items of ${where}`, dropped);
  for (const key of schemaMaps) {
    const map = schema[key];
    if (!isRecord(map)) continue;
    schema[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, checkSchema(sub, key === 'properties' ? `"${name}"` : where, dropped)]));
  }
  return schema;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function truncated(pattern: string): string {
  return pattern.length > 60 ? `${pattern.slice(0, 57)}…` : pattern;
}

/** One piece of a pattern: an atom (`literal` is its character when it is a plain one) or a group. */
type Node = { kind: 'atom'; literal: string | null } | { kind: 'anchor' } | { kind: 'group'; alternatives: Term[][] };
interface Term {
  node: Node;
  min: number;
  max: number;
}

/** A reader for the `u`-mode syntax the RegExp constructor has already accepted. */
class PatternParser {
  #source: string;
  #at = 0;

  constructor(source: string) {
    this.#source = source;
  }

  parse(): Term[][] {
    const alternatives = this.#alternatives();
    if (this.#at < this.#source.length) throw new Error('it has an unmatched ")"');
    return alternatives;
  }

  #alternatives(): Term[][] {
    const alternatives = [this.#sequence()];
    while (this.#peek() === '|') {
      this.#at++;
      alternatives.push(this.#sequence());
    }
    return alternatives;
  }

  #sequence(): Term[] {
    const terms: Term[] = [];
    while (this.#at < this.#source.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const node = this.#node();
      const [min, max] = node.kind === 'anchor' ? [1, 1] : this.#quantifier();
      terms.push({ node, min, max });
    }
    return terms;
  }

  #node(): Node {
    const char = this.#next();
    if (char === '^' || char === '$') return { kind: 'anchor' };
    if (char === '.') return { kind: 'atom', literal: null };
    if (char === '[') {
      while (this.#peek() !== ']') {
        if (this.#next() === '\\') this.#next();
      }
      this.#at++;
      return { kind: 'atom', literal: null };
    }
    if (char === '(') {
      if (this.#peek() === '?') {
        this.#at++;
        const kind = this.#next();
        if (kind === '=' || kind === '!') throw new Error('it uses a lookahead');
        if (kind === '<' && (this.#peek() === '=' || this.#peek() === '!')) throw new Error('it uses a lookbehind');
        if (kind === '<') while (this.#next() !== '>');
        else if (kind !== ':') throw new Error('it uses a group modifier');
      }
      const alternatives = this.#alternatives();
      this.#at++; // the ")"
      return { kind: 'group', alternatives };
    }
    if (char === '\\') return this.#escape();
    return { kind: 'atom', literal: char };
  }

  #escape(): Node {
    const char = this.#next();
    if (/[1-9]/.test(char) || char === 'k') throw new Error('it uses a backreference');
    if (char === 'b' || char === 'B') return { kind: 'anchor' };
    if ('dDwWsS'.includes(char)) return { kind: 'atom', literal: null };
    if ((char === 'p' || char === 'P') && this.#peek() === '{') {
      while (this.#next() !== '}');
      return { kind: 'atom', literal: null };
    }
    if (char === 'u' && this.#peek() === '{') {
      const end = this.#source.indexOf('}', this.#at);
      const code = Number.parseInt(this.#source.slice(this.#at + 1, end), 16);
      this.#at = end + 1;
      return { kind: 'atom', literal: String.fromCodePoint(code) };
    }
    if (char === 'u' || char === 'x') {
      const length = char === 'u' ? 4 : 2;
      const code = Number.parseInt(this.#source.slice(this.#at, this.#at + length), 16);
      this.#at += length;
      return { kind: 'atom', literal: String.fromCharCode(code) };
    }
    if (char === 'c') return { kind: 'atom', literal: String.fromCharCode(this.#next().charCodeAt(0) % 32) };
    const controls: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', '0': '\0' };
    return { kind: 'atom', literal: controls[char] ?? char };
  }

  #quantifier(): [number, number] {
    const char = this.#peek();
    let range: [number, number] | null = null;
    if (char === '*') range = [0, Infinity];
    else if (char === '+') range = [1, Infinity];
    else if (char === '?') range = [0, 1];
    if (range !== null) this.#at++;
    else if (char === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.#source.slice(this.#at));
      if (match === null) return [1, 1];
      this.#at += match[0].length;
      const min = Number(match[1]);
      range = [min, match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3])];
    } else return [1, 1];
    if (this.#peek() === '?') this.#at++; // lazy: the same backtracking
    return range;
  }

  #peek(): string | undefined {
    return this.#source[this.#at];
  }

  #next(): string {
    const char = this.#source[this.#at];
    if (char === undefined) throw new Error('it ends too early');
    this.#at++;
    return char;
  }
}

/** The first problem in a group's alternatives; `repeated` when the group sits inside a repeat. */
function checkAlternatives(alternatives: Term[][], repeated: boolean): string | null {
  if (repeated && alternatives.length > 1 && !distinctLiterals(alternatives)) {
    return 'it repeats a choice whose branches can match the same text';
  }
  for (const sequence of alternatives) {
    for (const term of sequence) {
      if (repeated && term.min !== term.max) return 'it has a variable repeat inside a repeated group (nested quantifiers)';
      if (term.node.kind !== 'group') continue;
      if (term.node.alternatives.every((branch) => branch.length === 0)) continue;
      const problem = checkAlternatives(term.node.alternatives, repeated || term.max > 1);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/** Every branch is plain characters and no two start with the same one, so a repeat never has to guess. */
function distinctLiterals(alternatives: Term[][]): boolean {
  const firsts = new Set<string>();
  for (const branch of alternatives) {
    if (branch.length === 0) return false;
    if (!branch.every((term) => term.node.kind === 'atom' && term.node.literal !== null && term.min === 1 && term.max === 1)) return false;
    const first = (branch[0]!.node as { literal: string }).literal;
    if (firsts.has(first)) return false;
    firsts.add(first);
  }
  return true;
}

function countOpenEnded(alternatives: Term[][]): number {
  let count = 0;
  for (const sequence of alternatives) {
    for (const term of sequence) {
      if (term.max > longRepeat) count++;
      if (term.node.kind === 'group') count += countOpenEnded(term.node.alternatives);
    }
  }
  return count;
}
