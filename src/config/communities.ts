// Community aliases (Community objects) and the community lists of BGP advertisements.
import type { FieldPath, LoadedObject } from '../api/loaded.ts';
import type { CommunityResource } from '../api/resources.ts';
import { type Community, formatCommunity, mergeCommunities, parseCommunity } from '../net/community.ts';
import { type Report, describe } from './report.ts';

/** MetalLB's limit per prefix, enforced by all three of its backends. */
export const maxCommunities = 63;

export interface Alias {
  readonly community: Community;
  readonly lo: LoadedObject<CommunityResource>;
  readonly index: number;
}

/** Alias name → value; alias names are unique across every Community object. */
export function resolveAliases(report: Report, los: readonly LoadedObject<CommunityResource>[]): Map<string, Alias> {
  const out = new Map<string, Alias>();
  for (const lo of los) {
    (lo.object.spec?.communities ?? []).forEach((c, index) => {
      const at = ['spec', 'communities', index];
      if (c.name === '') report.error(lo, [...at, 'name'], 'empty alias name: want a name such as "no-advertise"');
      const parsed = parseCommunity(c.value);
      if (!parsed.community) {
        report.error(lo, [...at, 'value'], parsed.error ?? `invalid community "${c.value}"`);
        return;
      }
      const earlier = out.get(c.name);
      if (earlier) {
        const where = earlier.lo === lo ? `spec.communities[${earlier.index}]` : `${describe(earlier.lo)} spec.communities[${earlier.index}]`;
        report.error(lo, [...at, 'name'], `duplicate definition of community alias "${c.name}": already defined in ${where}; alias names must be unique across all Community objects`);
        return;
      }
      out.set(c.name, { community: parsed.community, lo, index });
    });
  }
  return out;
}

/**
 * Resolves `communities` (values or alias names) at `path`: unknown aliases, malformed values,
 * duplicates and more than 63 distinct communities are errors. Returns them sorted, de-duplicated.
 */
export function resolveCommunityList(report: Report, lo: LoadedObject, path: FieldPath, list: readonly string[] | undefined, aliases: ReadonlyMap<string, Alias>): Community[] {
  const values: Community[] = [];
  const seenText = new Map<string, number>();
  const seenValue = new Map<string, number>();
  (list ?? []).forEach((text, i) => {
    const at = [...path, i];
    const firstText = seenText.get(text);
    if (firstText !== undefined) {
      report.error(lo, at, `duplicate community "${text}": same as communities[${firstText}]; each community may appear once`);
      return;
    }
    seenText.set(text, i);
    let c: Community | undefined = aliases.get(text)?.community;
    if (!c) {
      if (!text.includes(':')) {
        const known = [...aliases.keys()].sort();
        report.error(lo, at, `unknown community alias "${text}": ${known.length > 0 ? `known aliases are ${known.map((k) => `"${k}"`).join(', ')}` : 'no Community object defines any alias'}; or write a value AS:VALUE or large:GA:LD1:LD2`);
        return;
      }
      const parsed = parseCommunity(text);
      if (!parsed.community) {
        report.error(lo, at, parsed.error ?? `invalid community "${text}"`);
        return;
      }
      c = parsed.community;
    }
    const key = formatCommunity(c);
    const firstValue = seenValue.get(key);
    if (firstValue !== undefined) {
      report.error(lo, at, `duplicate community "${text}": communities[${firstValue}] is the same value ${key}`);
      return;
    }
    seenValue.set(key, i);
    values.push(c);
  });
  if (values.length > maxCommunities) {
    report.error(lo, path, `${values.length} communities: at most ${maxCommunities} are allowed per advertisement`);
  }
  return mergeCommunities(values);
}
