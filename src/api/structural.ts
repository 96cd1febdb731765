// Structural validation: TypeBox's compiled validator decides, and each of its errors becomes one
// issue that names the field and says what the schema allows there ("must be an integer from 1 to
// 16384, got 0"), in words taken from the schema itself so message and rule never drift apart.
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import type { Validator } from 'typebox/compile';
import type { FieldPath } from './loaded.ts';
import { asnRangeText, goDurationFormat } from './schema-kit.ts';
import { durationExamples } from './duration.ts';

export interface StructuralIssue {
  readonly path: FieldPath;
  readonly message: string;
  /** A field the schema does not have: dropping it leaves a well-formed object. */
  readonly unknownField?: true;
}

type Json = Record<string, unknown>;

const compiled = new WeakMap<TSchema, Validator>();

function validatorFor(schema: TSchema): Validator {
  let v = compiled.get(schema);
  if (!v) {
    v = Compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** AS number fields: their range reads the same in every message, structural or semantic. */
const asnField = (path: FieldPath): boolean => {
  const last = path[path.length - 1];
  return last === 'myASN' || last === 'peerASN' || last === 'localASN' || last === 'my-asn' || last === 'peer-asn' ||
    (last === 'asn' && path[path.length - 2] === 'asPrepend');
};

/** All structural problems of `value` against `schema`, one per field, in document order of paths. */
export function checkStructure(schema: TSchema, value: unknown): StructuralIssue[] {
  const validator = validatorFor(schema);
  if (validator.Check(value)) return [];
  const issues: StructuralIssue[] = [];
  const seen = new Set<string>();
  const add = (path: FieldPath, text: string, unknownField = false) => {
    const key = JSON.stringify(path);
    if (seen.has(key)) return;
    seen.add(key);
    const message = asnField(path) ? text.replace(/must be an integer from [01] to 4294967295/, `must be ${asnRangeText}`) : text;
    issues.push({ path, message, ...(unknownField ? { unknownField: true as const } : {}) });
  };
  for (const e of validator.Errors(value)) {
    const path = pointerToPath(e.instancePath, value);
    const params = e.params as Json;
    if (e.keyword === 'boolean') continue; // "schema is false": reported by additionalProperties below
    if (e.keyword === 'additionalProperties') {
      const parentSchema = schemaAt(schema, path);
      const allowed = Object.keys(((parentSchema as Json | undefined)?.properties as Json | undefined) ?? {}).sort();
      for (const name of (params.additionalProperties as string[] | undefined) ?? []) {
        add([...path, name], `unknown field "${name}" (allowed here: ${allowed.join(', ')})`, true);
      }
      continue;
    }
    if (e.keyword === 'required') {
      const parentSchema = schemaAt(schema, path);
      for (const name of (params.requiredProperties as string[] | undefined) ?? []) {
        const sub = ((parentSchema as Json | undefined)?.properties as Record<string, TSchema> | undefined)?.[name];
        add([...path, name], `required field is missing${sub ? ` (${describe(sub)})` : ''}`);
      }
      continue;
    }
    const sub = schemaAt(schema, path);
    const got = valueAt(value, path);
    // YAML 1.1 (kubectl's parser) reads yes/no/on/off as booleans; YAML 1.2 reads them as text.
    const hint = (sub as Json | undefined)?.type === 'boolean' && typeof got === 'string' && /^(y|yes|n|no|on|off)$/i.test(got)
      ? ' (write true or false: yes/no/on/off are text in YAML 1.2)'
      : '';
    add(path, sub ? `${describe(sub)}, got ${show(got)}${hint}` : e.message);
  }
  return issues;
}

function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Json)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let cur = root;
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[p] : undefined;
  return cur;
}

/** The sub-schema that governs the value at `path`. */
export function schemaAt(schema: TSchema, path: FieldPath): TSchema | undefined {
  let cur: Json | undefined = schema as unknown as Json;
  for (const p of path) {
    if (!cur) return undefined;
    if (typeof p === 'number') {
      cur = cur.items as Json | undefined;
      continue;
    }
    const props = cur.properties as Json | undefined;
    const pattern = cur.patternProperties as Json | undefined;
    const additional = cur.additionalProperties;
    if (props && p in props) cur = props[p] as Json;
    else if (pattern) cur = Object.values(pattern)[0] as Json;
    else if (additional && typeof additional === 'object') cur = additional as Json;
    else return undefined;
  }
  return cur;
}

/** What a schema allows, in words: "must be an integer from 1 to 16384". */
export function describe(schema: TSchema): string {
  const s = schema as unknown as Json;
  if (Array.isArray(s.anyOf)) return 'must be ' + (s.anyOf as TSchema[]).map((x) => describe(x).replace(/^must be /, '')).join(' or ');
  if (Array.isArray(s.enum)) return `must be one of: ${(s.enum as unknown[]).map(String).join(', ')}`;
  if (s.const !== undefined) return `must be ${JSON.stringify(s.const)}`;
  switch (s.type) {
    case 'integer': {
      const min = s.minimum as number | undefined;
      const max = s.maximum as number | undefined;
      if (min !== undefined && max !== undefined) return `must be an integer from ${min} to ${max}`;
      if (min !== undefined) return `must be an integer >= ${min}`;
      if (max !== undefined) return `must be an integer <= ${max}`;
      return 'must be an integer';
    }
    case 'number': return 'must be a number';
    case 'boolean': return 'must be true or false';
    case 'string':
      if (s.format === goDurationFormat) return `must be a duration such as ${durationExamples}`;
      if (typeof s.pattern === 'string' && (s.pattern).startsWith('^[a-z0-9]')) {
        return `must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.', starting and ending alphanumeric${s.maxLength ? `, at most ${s.maxLength as number} characters` : ''})`;
      }
      if (typeof s.pattern === 'string') return `must be a string matching ${s.pattern}`;
      return 'must be a string';
    case 'array': {
      const min = s.minItems as number | undefined;
      const max = s.maxItems as number | undefined;
      const of = s.items ? ` of ${noun(s.items)}` : '';
      const count = min !== undefined && max !== undefined ? ` with ${min} to ${max} items` : min !== undefined ? ` with at least ${min} item${min === 1 ? '' : 's'}` : max !== undefined ? ` with at most ${max} items` : '';
      return `must be a list${of}${count}`;
    }
    case 'object':
      if (s.patternProperties) return `must be a mapping of names to ${noun(Object.values(s.patternProperties as Json)[0] as TSchema)}`;
      return 'must be a mapping';
    default:
      return 'has an unexpected value';
  }
}

function noun(schema: TSchema): string {
  const s = schema as unknown as Json;
  if (Array.isArray(s.enum)) return `strings (${(s.enum as unknown[]).map(String).join(', ')})`;
  switch (s.type) {
    case 'string': return s.format === goDurationFormat ? 'durations' : 'strings';
    case 'integer': return 'integers';
    case 'boolean': return 'booleans';
    case 'object': return 'mappings';
    case 'array': return 'lists';
    default: return 'values';
  }
}

/** A value as a user would recognise it from their YAML. */
export function show(v: unknown): string {
  if (v === null) return 'an empty value';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : typeof v;
}
