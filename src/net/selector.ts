// Kubernetes label selectors, compiled once into a predicate (metav1.LabelSelectorAsSelector).

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export const selectorOperators: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A compiled selector. An empty selector matches everything, as in Kubernetes. */
export interface Selector {
  readonly requirements: readonly Requirement[];
  /** Canonical text (`a=b,c in (d,e)`), equal for equal selectors. */
  readonly text: string;
}

export class SelectorError extends Error {}

/** Compiles a selector; throws SelectorError naming the bad part when it is not valid. */
export function compileSelector(sel: LabelSelector): Selector {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    reqs.push({ key, operator: 'In', values: [value] });
  }
  (sel.matchExpressions ?? []).forEach((e, i) => {
    if (!selectorOperators.includes(e.operator as SelectorOperator)) {
      throw new SelectorError(`matchExpressions[${i}].operator: "${e.operator}" is not a valid operator (allowed: ${selectorOperators.join(', ')})`);
    }
    const op = e.operator as SelectorOperator;
    const values = [...(e.values ?? [])];
    if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      throw new SelectorError(`matchExpressions[${i}].values: must be non-empty for operator ${op}`);
    }
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      throw new SelectorError(`matchExpressions[${i}].values: must be empty for operator ${op}`);
    }
    reqs.push({ key: e.key, operator: op, values: values.sort() });
  });
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.operator < b.operator ? -1 : a.operator > b.operator ? 1 : 0));
  return { requirements: reqs, text: reqs.map(requirementText).join(',') };
}

function requirementText(r: Requirement): string {
  switch (r.operator) {
    case 'In': return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
    case 'NotIn': return `${r.key} notin (${r.values.join(',')})`;
    case 'Exists': return r.key;
    case 'DoesNotExist': return `!${r.key}`;
  }
}

export function selectorMatches(sel: Selector, labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel.requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'In': if (!has || !r.values.includes(l[r.key]!)) return false; break;
      case 'NotIn': if (has && r.values.includes(l[r.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
    }
  }
  return true;
}

/** MetalLB's rule for selector lists: none given means everything; otherwise any one (OR). */
export function anySelectorMatches(sels: readonly Selector[], labels: Labels | undefined): boolean {
  return sels.length === 0 || sels.some((s) => selectorMatches(s, labels));
}

export const everything: Selector = { requirements: [], text: '' };
