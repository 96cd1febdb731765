import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError } from '../store/kubernetes/kube-client.ts';
import { ensureMemberlistSecret } from './memberlist-secret.ts';

type Body = { metadata: { name: string; namespace: string }; data: Record<string, string> };

test('--ml-secret-name: the controller creates MetalLB\'s memberlist Secret (key secretkey) once, and never replaces one', async () => {
  const stored = new Map<string, Body>();
  const calls: string[] = [];
  const client = {
    async request<T>(method: string, path: string, o: { body?: unknown } = {}): Promise<T> {
      calls.push(`${method} ${path}`);
      const b = o.body as Body;
      if (stored.has(b.metadata.name)) throw new KubeApiError(409, 'AlreadyExists', 'exists', method, path);
      stored.set(b.metadata.name, b);
      return b as T;
    },
  };
  assert.equal(await ensureMemberlistSecret(client, 'metallb-system', 'metallb-memberlist'), true);
  const made = stored.get('metallb-memberlist')!;
  assert.deepEqual(calls, ['POST /api/v1/namespaces/metallb-system/secrets']);
  assert.deepEqual(Object.keys(made.data), ['secretkey']);
  const key = Buffer.from(made.data.secretkey!, 'base64').toString('utf8');
  assert.ok(key.length >= 64 && key.trim() === key, 'a long random key, readable as text');
  assert.equal(await ensureMemberlistSecret(client, 'metallb-system', 'metallb-memberlist'), false, 'it exists: kept');
  assert.equal(stored.get('metallb-memberlist'), made);
  const failing = { request: (m: string, p: string): Promise<never> => Promise.reject(new KubeApiError(403, 'Forbidden', 'no', m, p)) };
  await assert.rejects(ensureMemberlistSecret(failing, 'metallb-system', 'x'), /no/);
});
