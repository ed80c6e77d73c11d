import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type toolV1 } from '@overskill/contracts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { contentTypeFor, isHtml } from './content-type';
import { DEV_MODE, DevServerService } from './dev-server/dev-server.service';
import { injectCapture } from './capture-script';
import { parsePreviewHost, previewOrigin, type PreviewAddress } from './preview-address';
import { PreviewFilesRepository } from './preview-files.repository';
import { previewFilePath, wantsPageFallback } from './preview-path';
import { PREVIEW_SETTINGS, type PreviewSettings } from './preview-settings';
import { PreviewStoreRepository, type PreviewOwner } from './preview-store.repository';

export interface PreviewResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ResolvedPreview {
  address: PreviewAddress;
  owner: PreviewOwner;
  origin: string;
}

type PreviewInfoInit = MessageInitShape<typeof toolV1.PreviewInfoSchema>;

const DEV_SCRIPT_SERVED_STATIC =
  'This app has a dev script, but dev-server previews are off on this platform (PREVIEW_DEV_SERVER, or bubblewrap is missing): its files are served as they are';
const DEV_NOT_STARTED = 'The dev server starts on the next view of the preview';
const STATIC_RESTART = 'A static preview is served straight from the files of each version; there is nothing to restart';

// Serves an app's versions at its own origin, and answers what the API asks about a preview.
@Injectable()
export class PreviewService {
  constructor(
    private readonly store: PreviewStoreRepository,
    private readonly files: PreviewFilesRepository,
    private readonly devServers: DevServerService,
    @Inject(PREVIEW_SETTINGS) private readonly settings: PreviewSettings,
  ) {}

  // The preview a Host header names, or PREVIEW_NOT_FOUND (unknown, malformed or rotated).
  async resolve(host: string | undefined): Promise<ResolvedPreview> {
    const address = parsePreviewHost(host, this.settings.domain);
    const owner = address && (await this.store.resolve(address.previewId));
    if (!address || !owner)
      throw new AppError(
        ErrorCode.PREVIEW_NOT_FOUND,
        'No preview lives at this address: the link is wrong, or it was rotated; ask the app for its current preview URL',
      );
    return { address, owner, origin: previewOrigin(this.settings.publicBase, address) };
  }

  async serve(host: string | undefined, url: string, accept: string | undefined): Promise<PreviewResponse> {
    const { address, owner } = await this.resolve(host);
    const wanted = previewFilePath(url);
    if (wanted.hidden) throw new AppError(ErrorCode.PREVIEW_FILE_NOT_FOUND, 'Files and folders whose names start with a dot are not served');
    let path = wanted.path;
    let file = await this.files.read(owner, path, address.sha);
    if (file.kind === 'not-a-file' || (file.kind === 'missing' && !path.split('/').at(-1)?.includes('.'))) {
      const inFolder = await this.files.read(owner, `${path}/index.html`, address.sha);
      if (inFolder.kind === 'file') [path, file] = [`${path}/index.html`, inFolder];
    }
    if (file.kind !== 'file' && wantsPageFallback(path, accept)) [path, file] = ['index.html', await this.files.read(owner, 'index.html', address.sha)];
    // Browsers ask for it unprompted: an app without one is not an app with a broken request.
    if (file.kind !== 'file' && path === 'favicon.ico') return { status: 204, headers: { 'cache-control': 'no-cache' }, body: Buffer.alloc(0) };
    if (file.kind !== 'file') {
      throw new AppError(ErrorCode.PREVIEW_FILE_NOT_FOUND, path === 'index.html' ? 'This version has no index.html to show' : `${path} is not in this version`);
    }
    const type = contentTypeFor(path);
    const body = isHtml(type) ? Buffer.from(injectCapture(file.content.toString('utf8'))) : file.content;
    return {
      status: 200,
      headers: {
        'content-type': type,
        // A version by sha never changes; the latest does with every edit. Not no-store: Chrome
        // never finishes a no-store response nobody reads, and the page never goes network-idle.
        'cache-control': address.sha ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      },
      body,
    };
  }

  async info(owner: PreviewOwner, reason = ''): Promise<PreviewInfoInit> {
    const previewId = await this.store.ensure(owner);
    const check = await this.store.lastCheck(owner.appId);
    const base = { appId: owner.appId, previewId, url: `${previewOrigin(this.settings.publicBase, { previewId })}/`, lastCheck: check };
    if (await this.devServers.devPackage(owner)) {
      const status = await this.devServers.status(owner.appId);
      return { ...base, mode: DEV_MODE, state: status?.state ?? 'stopped', reason: reason || (status ? status.reason : DEV_NOT_STARTED) };
    }
    reason ||= (await this.hasDevScript(owner)) ? DEV_SCRIPT_SERVED_STATIC : '';
    return { ...base, mode: 'static', state: 'running', reason };
  }

  async rotate(owner: PreviewOwner): Promise<PreviewInfoInit> {
    await this.store.rotate(owner);
    return this.info(owner);
  }

  // A dev server is stopped and started again (on whichever replica runs it); static has none.
  async restart(owner: PreviewOwner): Promise<PreviewInfoInit> {
    const pkg = await this.devServers.devPackage(owner);
    if (!pkg) return this.info(owner, STATIC_RESTART);
    await this.devServers.restart(owner, pkg);
    return this.info(owner);
  }

  // An app built to run with `npm run dev` while dev-server mode is off is served as files.
  // No workspace yet, no package.json or not JSON: no dev script.
  private async hasDevScript(owner: PreviewOwner): Promise<boolean> {
    try {
      const file = await this.files.read(owner, 'package.json');
      if (file.kind !== 'file') return false;
      const scripts = (JSON.parse(file.content.toString('utf8')) as { scripts?: Record<string, unknown> }).scripts;
      return typeof scripts?.['dev'] === 'string';
    } catch {
      return false;
    }
  }
}
