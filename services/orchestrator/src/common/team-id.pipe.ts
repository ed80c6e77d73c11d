import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';

// Every orchestrator request names its tenant. A team id that is not an id the platform mints
// owns nothing: it is refused before it reaches a query (where Postgres would fail on it as an
// internal error).
export function requireTeamId(teamId: unknown): void {
  if (!isEntityId(teamId)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'team_id is not a valid team id');
}

// The same check for every handler of the controllers that use it. A controller on a hot path
// calls requireTeamId from its service instead: a pipe keeps Nest's whole handler chain per request.
@Injectable()
export class TeamIdPipe implements PipeTransform {
  transform(value: unknown): unknown {
    if (typeof value === 'object' && value !== null && 'teamId' in value) requireTeamId(value.teamId);
    return value;
  }
}
