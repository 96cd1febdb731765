// `--bgp-backend frr-k8s` on a folder: the speaker's FRRConfiguration as a YAML file a person (or
// `kubectl apply -f`) can take to frr-k8s, one file per node, written atomically (temp + rename),
// removed when the node has nothing for frr-k8s. The default folder is inside `.ironlb-state/`,
// which the folder store never reads: ironlb must not read back, as FRRConfiguration input
// (issue #14 part 1), the object it writes for frr-k8s.
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { EmittedFrrConfiguration } from '../../speaker/frrk8s-emit.ts';
import { frrConfigurationName } from '../../speaker/frrk8s-emit.ts';

export const defaultFrrOutput = (folder: string): string => join(folder, '.ironlb-state', 'frr-k8s');

export class FileFrrConfigurationWriter {
  readonly where: string;
  constructor(private readonly dir: string) {
    this.where = dir;
  }

  async write(obj: EmittedFrrConfiguration | undefined, node: string): Promise<void> {
    const file = join(this.dir, `${frrConfigurationName(node)}.yaml`);
    if (!obj) {
      await unlink(file).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
      return;
    }
    await mkdir(this.dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, `# Written by ironlb's speaker (--bgp-backend frr-k8s) for node ${node}: the FRRConfiguration for frr-k8s.\n${stringify(obj, { lineWidth: 0 })}`);
    await rename(temp, file);
  }
}
