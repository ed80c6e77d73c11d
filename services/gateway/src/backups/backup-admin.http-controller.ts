import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { BackupAdminService } from './backup-admin.service';

// The backup service's operator surface over HTTP (operator teams' admins and owners).
@Controller()
@UseGuards(ApiKeyGuard)
export class BackupAdminHttpController {
  constructor(private readonly backups: BackupAdminService) {}

  @ApiRoute(ROUTES.listBackups)
  list(@Req() req: AuthenticatedRequest) {
    return this.backups.list(parseRequest(ROUTES.listBackups, req).query.limit);
  }

  @ApiRoute(ROUTES.createBackup)
  create(@Req() req: AuthenticatedRequest) {
    const { type, encrypt } = parseRequest(ROUTES.createBackup, req).body;
    return this.backups.create(type, encrypt);
  }

  @ApiRoute(ROUTES.getBackup)
  get(@Req() req: AuthenticatedRequest) {
    return this.backups.get(parseRequest(ROUTES.getBackup, req).params.backupId);
  }

  @ApiRoute(ROUTES.verifyBackup)
  verify(@Req() req: AuthenticatedRequest) {
    return this.backups.verify(parseRequest(ROUTES.verifyBackup, req).params.backupId);
  }

  @ApiRoute(ROUTES.restoreBackupToMoment)
  restoreToMoment(@Req() req: AuthenticatedRequest) {
    const { to, backupId } = parseRequest(ROUTES.restoreBackupToMoment, req).body;
    return this.backups.restoreToMoment(to, backupId);
  }

  @ApiRoute(ROUTES.drillBackup)
  drill(@Req() req: AuthenticatedRequest) {
    return this.backups.drill(parseRequest(ROUTES.drillBackup, req).body.backupId);
  }
}
