// Label selectors as config/ needs them: compiled with errors a user can act on, duplicates refused
// (MetalLB's validateLabelSelectorDuplicate), sorted canonically so equal inputs resolve equally,
// and a static test of whether two selector lists could ever select the same object.
import type { FieldPath, LoadedObject } from '../api/loaded.ts';
import { type LabelSelector, type Selector, SelectorError, compileSelector } from '../net/selector.ts';
import type { Report } from './report.ts';

type Requirement = Selector['requirements'][number];

/**
 * Compiles `selectors` found at `path`, reporting invalid ones, duplicate match expressions or values
 * inside one selector, and duplicate selectors in the list. Returns the valid ones sorted by text.
 */
export function compileSelectors(report: Report, lo: LoadedObject, path: FieldPath, selectors: readonly LabelSelector[] | undefined): Selector[] {
  const out: Selector[] = [];
  const seen = new Map<string, number>();
  (selectors ?? []).forEach((raw, i) => {
    const at = [...path, i];
    const exprs = raw.matchExpressions ?? [];
    const exprSeen = new Map<string, number>();
    exprs.forEach((e, j) => {
      const values = e.values ?? [];
      const dup = values.find((v, k) => values.indexOf(v) !== k);
      if (dup !== undefined) report.error(lo, [...at, 'matchExpressions', j, 'values'], `duplicate value "${dup}": each value may appear once`);
      const key = `${e.key} ${e.operator} ${[...values].sort().join(',')}`;
      const first = exprSeen.get(key);
      if (first !== undefined) report.error(lo, [...at, 'matchExpressions', j], `duplicate match expression: same as matchExpressions[${first}]`);
      else exprSeen.set(key, j);
    });
    let sel: Selector;
    try {
      sel = compileSelector(raw);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      report.error(lo, at, `invalid label selector: ${e.message}`);
      return;
    }
    const first = seen.get(sel.text);
    if (first !== undefined) {
      report.error(lo, at, `duplicate selector "${sel.text || '(everything)'}": same as ${lastName(path)}[${first}]; each selector may appear once`);
      return;
    }
    seen.set(sel.text, i);
    out.push(sel);
  });
  return out.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

function lastName(path: FieldPath): string {
  const last = path[path.length - 1];
  return typeof last === 'string' ? last : 'selectors';
}

/** A selector list as text for messages: "all" when empty (MetalLB: no selector = everything). */
export function selectorsText(sels: readonly Selector[], all = 'all nodes'): string {
  if (sels.length === 0 || sels.some((s) => s.requirements.length === 0)) return all;
  return sels.map((s) => `{${s.text}}`).join(' or ');
}

/** Could some label set satisfy both selectors? */
export function selectorsIntersect(a: Selector, b: Selector): boolean {
  const byKey = new Map<string, Requirement[]>();
  for (const r of [...a.requirements, ...b.requirements]) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const reqs of byKey.values()) if (!satisfiable(reqs)) return false;
  return true;
}

function satisfiable(reqs: readonly Requirement[]): boolean {
  let allowed: Set<string> | undefined;
  const excluded = new Set<string>();
  let mustExist = false;
  let mustNotExist = false;
  for (const r of reqs) {
    switch (r.operator) {
      case 'In':
        mustExist = true;
        allowed = new Set(r.values.filter((v) => allowed === undefined || allowed.has(v)));
        break;
      case 'NotIn': for (const v of r.values) excluded.add(v); break;
      case 'Exists': mustExist = true; break;
      case 'DoesNotExist': mustNotExist = true; break;
    }
  }
  if (mustExist && mustNotExist) return false;
  if (allowed !== undefined) return [...allowed].some((v) => !excluded.has(v));
  return true;
}

/** Could the two selector lists (empty = everything, otherwise any one of them) select one object? */
export function selectorListsIntersect(a: readonly Selector[], b: readonly Selector[]): boolean {
  const la = a.length === 0 ? [{ requirements: [], text: '' }] : a;
  const lb = b.length === 0 ? [{ requirements: [], text: '' }] : b;
  return la.some((x) => lb.some((y) => selectorsIntersect(x, y)));
}
