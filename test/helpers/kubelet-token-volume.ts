import { randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The names kubelet's AtomicWriter uses (kubernetes pkg/volume/util/atomic_writer.go). */
const DATA_DIR = '..data';
const DATA_DIR_TMP = '..data_tmp';
const TOKEN = 'token';

/** `..2006_01_02_15_04_05.<random digits>`, the Go layout AtomicWriter passes to os.MkdirTemp. */
function timestampDirName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const ts =
    `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_` +
    `${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${ts}.${String(randomInt(0, 10_000_000_000)).padStart(10, '0')}`;
}

/**
 * A projected serviceAccountToken volume, updated the way kubelet's AtomicWriter does it:
 * `token -> ..data/token`, `..data -> ..<ts>.<rand>`, and every update swaps `..data` with one
 * `rename(2)` of a fresh symlink. The `token` link itself is created once and never changes,
 * which is why a plain `fs.watch` on it goes deaf after the first rotation.
 */
export class KubeletTokenVolume {
  /** The volume directory (what a pod mounts, e.g. /var/run/secrets/tokens). */
  readonly dir: string;
  /** The user-visible `token` path, the one `--token-file` points at. */
  readonly path: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.path = join(dir, TOKEN);
  }

  /**
   * A fresh volume in a temp dir. Without `initialToken` the directory is empty (no `..data`,
   * no `token`), like a volume the kubelet has not written yet.
   */
  static async create(initialToken?: string): Promise<KubeletTokenVolume> {
    const volume = new KubeletTokenVolume(await mkdtemp(join(tmpdir(), 'sts-sidecar-vol-')));
    if (initialToken !== undefined) await volume.write(initialToken);
    return volume;
  }

  /**
   * One AtomicWriter update, in the order of `AtomicWriter.Write` (steps 5–12 of its doc
   * comment). Unlike the kubelet (step 4), this writes even when the content is unchanged, so
   * tests can swap `..data` without a content change.
   */
  async write(token: string): Promise<void> {
    const oldTsDir = await readlink(join(this.dir, DATA_DIR)).catch(() => undefined);
    const tsDir = timestampDirName(new Date());
    // (5)(6) new timestamped dir (0755) with the payload in it (0644, chmod past the umask)
    await mkdir(join(this.dir, tsDir));
    await chmod(join(this.dir, tsDir), 0o755);
    await writeFile(join(this.dir, tsDir, TOKEN), token);
    await chmod(join(this.dir, tsDir, TOKEN), 0o644);
    // (8)(9) `..data_tmp -> <tsDir>` (relative, as the kubelet does), then the atomic swap
    await symlink(tsDir, join(this.dir, DATA_DIR_TMP));
    await rename(join(this.dir, DATA_DIR_TMP), join(this.dir, DATA_DIR));
    // (10) the user-visible link, only if it is not there yet (first write, or after remove())
    await symlink(join(DATA_DIR, TOKEN), this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    // (12) the previous payload goes away
    if (oldTsDir !== undefined) await rm(join(this.dir, oldTsDir), { recursive: true, force: true });
  }

  /** Removes the `token` link, so the file is missing until the next write(). */
  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /** Deletes the whole volume directory. */
  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
