import fs from 'node:fs';
import path from 'node:path';

export interface SystemUser {
  uid: number;
  gid: number;
}

// initdb and postgres refuse to run as root; the postgresql package creates this user.
export function findPostgresSystemUser(): SystemUser {
  const passwd = fs.existsSync('/etc/passwd') ? fs.readFileSync('/etc/passwd', 'utf8') : '';
  const entry = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'postgres');
  if (!entry) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no `postgres` system user to run it as: ' +
        'install the `postgresql` apt package (it creates the user) or run as a non-root user',
    );
  }
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

export function chownRecursive(target: string, user: SystemUser): void {
  fs.chownSync(target, user.uid, user.gid);
  if (!fs.lstatSync(target).isDirectory()) return;
  for (const entry of fs.readdirSync(target)) chownRecursive(path.join(target, entry), user);
}

// Adds the "others may traverse" bit on every ancestor that lacks it (e.g. a 0700 mkdtemp
// folder owned by root), so the postgres user can reach its data folder. Listing stays closed.
export function makeAncestorsTraversable(target: string): void {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o7777) | 0o001);
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
