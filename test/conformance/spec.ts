/**
 * The vendored OpenAPI subset (test/fixtures/openapi, SOURCES.md there) as ajv validators, one per
 * event `type` for each of the four WebSocket unions. OpenAPI 3.1 schemas are JSON Schema 2020-12
 * apart from the few spellings converted in `toJsonSchema`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

export type Union = 'ResponsesClientEvent' | 'ResponsesServerEvent' | 'RealtimeClientEvent' | 'RealtimeServerEvent';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Subset {
  source: { repository: string; commit: string; date: string; path: string };
  roots: Union[];
  components: { schemas: Record<string, JsonObject> };
}

export const subsetPath = join(import.meta.dirname, '../fixtures/openapi/openai-openapi.subset.json');
const specId = 'https://github.com/openai/openai-openapi/openapi.json';
const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * OpenAPI spellings ajv's 2020-12 dialect does not know, converted to what they mean:
 * - `$ref: '#/components/schemas/X'` → `#/$defs/X` (the subset becomes one schema document);
 * - OpenAPI 3.0 `nullable: true` (one left in `RealtimeSessionCreateRequestGA.tracing`) → `anyOf [schema, null]`;
 * - `oneOf` with an OpenAPI `discriminator` whose members overlap → `anyOf`: `InputItem` lists
 *   `EasyInputMessage` and `Item` (whose `InputMessage` accepts the same user message), so
 *   "exactly one" would refuse every plain `{type:'message', role:'user', content:[…]}` the SDK's
 *   `ResponseInputItem` union allows; the discriminator says the members are alternatives;
 * - 2019-09 `$recursiveAnchor`/`$recursiveRef: '#'` (`CompoundFilter`, whose `filters` nest
 *   compound filters) → a plain `$ref` to the schema carrying the anchor, which is what it means
 *   when nothing extends it.
 */
export function toJsonSchema(schemas: Record<string, JsonObject>): Record<string, JsonObject> {
  const convert = (node: Json, owner: string, anchored: boolean): Json => {
    if (Array.isArray(node)) return node.map((entry) => convert(entry, owner, anchored));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.$ref = value.replace('#/components/schemas/', '#/$defs/');
      else if (key === '$recursiveAnchor') continue;
      else if (key === '$recursiveRef') {
        if (!anchored || value !== '#') throw new Error(`${owner}: $recursiveRef ${String(value)} without an anchor`);
        out.$ref = `#/$defs/${owner}`;
      } else if (key === 'nullable') continue;
      else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value) && discriminated(schemas, value)) {
        out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), ...byType(schemas, value.map((member) => convert(member, owner, anchored)), value)];
      }
      else if (key === 'example' || key === 'examples' || key === 'properties' || key === 'x-oaiMeta') {
        // Examples are data, not schemas; property names are names, their values schemas.
        out[key] = key === 'properties' && isObject(value) ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, convert(schema, owner, anchored)])) : value;
      } else if (key === 'allOf' && Array.isArray(out.allOf)) out.allOf = [...(value as Json[]).map((member) => convert(member, owner, anchored)), ...out.allOf];
      else if (key === 'oneOf' && node.discriminator !== undefined) out.anyOf = convert(value, owner, anchored);
      else out[key] = convert(value, owner, anchored);
    }
    return node.nullable === true ? { anyOf: [out, { type: 'null' }] } : out;
  };
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, convert(schema, name, schema.$recursiveAnchor === true) as JsonObject]));
}

/** The constants a union member pins `type` (and `role`, which tells the three message items apart) to. */
const discriminators = ['type', 'role'] as const;

function keyOf(schemas: Record<string, JsonObject>, member: Json): Record<string, string> | null {
  const type = constantOf(schemas, member, 'type');
  if (type === null) return null;
  const role = constantOf(schemas, member, 'role');
  return role === null ? { type } : { type, role };
}

/** A union whose members each accept one distinct `type` (or `type` and `role`) constant: most of the spec's event, item and part unions. */
function discriminated(schemas: Record<string, JsonObject>, members: Json[]): boolean {
  const keys = members.map((member) => keyOf(schemas, member));
  if (!keys.every((key) => key !== null)) return false;
  // Members sharing a `type` must each pin a different `role`, or an `if` would pick two of them.
  return keys.every((key) => keys.filter((other) => other.type === key.type).every((other) => other === key || (other.role !== undefined && key.role !== undefined && other.role !== key.role)));
}

/**
 * The same union as `if type (and role) is X then member X`, so a frame is checked against the
 * one member it names and errors come from that member only, not from every member it is not.
 * A frame with no `type` still gets the original union; an unknown `type` fails the enum.
 */
function byType(schemas: Record<string, JsonObject>, converted: Json[], members: Json[]): Json[] {
  const keys = members.map((member) => keyOf(schemas, member) as Record<string, string>);
  return [
    { if: { required: ['type'] }, then: { properties: { type: { enum: [...new Set(keys.map((key) => key.type as string))] } } }, else: { anyOf: converted } },
    ...converted.map((member, index) => {
      const key = keys[index] as Record<string, string>;
      const names = discriminators.filter((name) => key[name] !== undefined);
      return { if: { required: names, properties: Object.fromEntries(names.map((name) => [name, { const: key[name] as string }])) }, then: member };
    }),
  ];
}

/** Keywords the spec uses that are annotations, not assertions: the OpenAPI/Stainless `x-*` family, `discriminator`, `example`. */
function annotationKeywords(schemas: Record<string, JsonObject>): string[] {
  const found = new Set(['discriminator', 'example']);
  const visit = (node: Json, inProperties: boolean): void => {
    if (Array.isArray(node)) return node.forEach((entry) => visit(entry, false));
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (!inProperties && key.startsWith('x-')) found.add(key);
      if (key !== 'example' && !key.startsWith('x-')) visit(value, key === 'properties' && !inProperties);
    }
  };
  Object.values(schemas).forEach((schema) => visit(schema, false));
  return [...found].sort();
}

/** The constant a union member pins `property` to, followed through `$ref` and `allOf`. */
function constantOf(schemas: Record<string, JsonObject>, node: Json, property: string): string | null {
  if (!isObject(node)) return null;
  if (typeof node.$ref === 'string') return constantOf(schemas, schemas[node.$ref.replace('#/components/schemas/', '')] ?? null, property);
  const schema = isObject(node.properties) ? node.properties[property] : undefined;
  if (isObject(schema)) {
    if (typeof schema.const === 'string') return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length === 1 && typeof schema.enum[0] === 'string') return schema.enum[0];
  }
  for (const member of Array.isArray(node.allOf) ? node.allOf : []) {
    const value = constantOf(schemas, member, property);
    if (value !== null) return value;
  }
  return null;
}

export interface Violation {
  /** `instancePath keyword: message`, with array indices as `*` so one cause is one line. */
  key: string;
  detail: string;
}

export interface EventSchemas {
  source: Subset['source'];
  /** Every event type each union names, with the schema (`#/$defs/...` or union member title) it validates against. */
  members: Record<Union, Map<string, string>>;
  /** Validates a frame against its union's member for `frame.type`; unknown types are one violation. */
  check(union: Union, frame: Record<string, unknown>): Violation[];
  /** Validates a value against one named schema of the subset (for narrowing down a failure). */
  checkSchema(schema: string, value: unknown): Violation[];
  /** The example event the spec gives for a schema (`x-oaiMeta.example`), parsed. */
  example(schema: string): Record<string, unknown>;
}

export function loadEventSchemas(): EventSchemas {
  const subset = JSON.parse(readFileSync(subsetPath, 'utf8')) as Subset;
  const raw = subset.components.schemas;
  const ajv = new Ajv2020({
    allErrors: true,
    // Inlining every small $ref multiplies the generated code for a spec this size: compile each once.
    inlineRefs: false,
    // The spec leaves `type` off many object schemas and uses unions of types; both are fine JSON Schema.
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    // Formats are annotations in 2020-12 unless asked for; `uri` is checked, the OpenAPI numeric ones are not.
    formats: { uri: (value: string) => URL.canParse(value), unixtime: true, float: true, double: true, int64: true },
  });
  ajv.addVocabulary(annotationKeywords(raw));
  ajv.addSchema({ $id: specId, $defs: toJsonSchema(raw) });

  const members = {} as Record<Union, Map<string, string>>;
  const validators = new Map<Union, ValidateFunction>();
  for (const union of subset.roots) {
    const byName = new Map<string, string>();
    const anyOf = raw[union]?.anyOf;
    if (!Array.isArray(anyOf) || !discriminated(raw, anyOf)) throw new Error(`${union} is not a union discriminated by type`);
    for (const member of anyOf) {
      const name = isObject(member) && typeof member.$ref === 'string' ? member.$ref.replace('#/components/schemas/', '') : isObject(member) && typeof member.title === 'string' ? member.title : '?';
      byName.set(constantOf(raw, member, 'type') as string, name);
    }
    members[union] = byName;
    validators.set(union, ajv.compile({ $ref: `${specId}#/$defs/${union}` }));
  }

  return {
    source: subset.source,
    members,
    check(union, frame) {
      if (!members[union].has(String(frame.type))) return [{ key: `/type unknown: ${union} has no event type '${String(frame.type)}'`, detail: '' }];
      const validate = validators.get(union) as ValidateFunction;
      return validate(frame) ? [] : reduce(validate.errors ?? []);
    },
    checkSchema(schema, value) {
      const validate = ajv.getSchema(`${specId}#/$defs/${schema}`);
      if (validate === undefined) throw new Error(`no schema ${schema}`);
      return validate(value) ? [] : reduce(validate.errors ?? []);
    },
    example(schema) {
      const meta = raw[schema]?.['x-oaiMeta'];
      const text = isObject(meta) && typeof meta.example === 'string' ? meta.example : null;
      if (text === null) throw new Error(`${schema} has no example`);
      // Some examples end an object with a trailing comma, which JSON does not allow.
      return JSON.parse(text.replace(/,(\s*[}\]])/g, '$1')) as Record<string, unknown>;
    },
  };
}

/**
 * ajv reports every failed branch of an `anyOf`; the branch errors under a failed `anyOf` are
 * noise when one of them is the real cause, so only the deepest errors on each path are kept.
 */
function reduce(errors: ErrorObject[]): Violation[] {
  const keyed = errors.filter((error) => error.keyword !== 'if').map((error) => {
    const path = error.instancePath.replace(/\/\d+(?=\/|$)/g, '/*') || '/';
    const params = error.params as Record<string, unknown>;
    const extra =
      error.keyword === 'additionalProperties' ? ` '${String(params.additionalProperty)}'` : error.keyword === 'required' ? ` '${String(params.missingProperty)}'` : '';
    return { path, error, key: `${path} ${error.keyword}${extra}: ${error.message ?? ''}`, detail: `${error.schemaPath} ${JSON.stringify(error.params)}` };
  });
  const deepest = keyed.filter(
    (entry) => !(['anyOf', 'oneOf'].includes(entry.error.keyword) && keyed.some((other) => other !== entry && other.path.startsWith(entry.path) && other.error.schemaPath.startsWith(entry.error.schemaPath.replace(/\/(anyOf|oneOf)$/, '')))),
  );
  const unique = new Map<string, Violation>();
  for (const entry of deepest.length > 0 ? deepest : keyed) if (!unique.has(entry.key)) unique.set(entry.key, { key: entry.key, detail: entry.detail });
  return [...unique.values()];
}
