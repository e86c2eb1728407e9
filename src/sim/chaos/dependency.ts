import { existsSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'

/**
 * The "dependency down" fault: deliver's output folder becomes unwritable in a way root cannot
 * ignore (root ignores permission bits): the folder is moved aside and a plain file put in its
 * place, so every mkdir or write under it fails with ENOTDIR or EEXIST. `restore` puts the
 * folder back with what was delivered before. Returns the restore.
 */
export async function blockOutputFolder(outDir: string): Promise<() => Promise<void>> {
  const aside = `${outDir}.down-${process.pid}`
  const had = existsSync(outDir)
  if (had) await rename(outDir, aside)
  await writeFile(outDir, 'dependency down (pipeline load --chaos): a plain file where the output folder should be\n')
  return async () => {
    await rm(outDir, { force: true })
    if (had) await rename(aside, outDir)
  }
}
