import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeXml } from '../../http/soap/markup';
import { CONSOLE_PATH } from './auth';

/** The package's root: three levels above this file, whether it runs from src/ or from dist/. */
const ROOT = join(__dirname, '..', '..', '..');
/** The page, its style sheet and icon, kept as they are in the package. */
const PAGE_DIR = join(ROOT, 'console');
/** The page's script modules, compiled from console/src/ by `npm run build`. */
const SCRIPT_DIR = join(ROOT, 'dist', 'console');

export interface Asset {
  type: string;
  /** Every file of the console is text (HTML, CSS, SVG, JavaScript), in UTF-8. */
  body: string;
}

const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * The console's files, read once on first use: only the names listed above and the `.js` modules of the
 * build, so no request can name any other file. A missing build leaves the page without its script (the
 * page says so) rather than stopping the server.
 */
export class ConsoleAssets {
  private files: Map<string, Asset> | undefined;

  get(name: string): Asset | undefined {
    this.files ??= this.load();
    return this.files.get(name);
  }

  private load(): Map<string, Asset> {
    const files = new Map<string, Asset>();
    for (const [name, type] of Object.entries(PAGE_FILES)) {
      files.set(name, { type, body: readFileSync(join(PAGE_DIR, name), 'utf8') });
    }
    let scripts: string[] = [];
    try {
      scripts = readdirSync(SCRIPT_DIR).filter((name) => /^[a-z][a-z0-9-]*\.js$/.test(name));
    } catch {
      // not built: the page shows its "script did not load" note
    }
    for (const name of scripts) {
      files.set(name, { type: 'text/javascript; charset=utf-8', body: readFileSync(join(SCRIPT_DIR, name), 'utf8') });
    }
    return files;
  }
}

/** The base the page is written with in `console/index.html`: right when the console is served at the root. */
const PAGE_BASE = '<base href="/console/">';

/**
 * The page with its `<base href>` where it is served: under DUALGATE_PUBLIC_URL's path prefix and the mount
 * path (`/auth/console/`), so the page's relative addresses (its files, its API calls) resolve there.
 */
export function pageWithBase(page: string, mountPath: string): string {
  // One leading slash whatever the mount path says (`//host/...` would be another site), none at its end.
  const href = `${mountPath.replace(/^\/+/, '/').replace(/\/+$/, '')}${CONSOLE_PATH}/`;
  if (href === `${CONSOLE_PATH}/`) return page;
  return page.replace(PAGE_BASE, `<base href="${escapeXml(href)}">`);
}
