import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';

// Every orchestrator request names its tenant. A team id that is not an id the platform mints
// owns nothing: it is refused here, for every handler of the controllers that use it, before it reaches a query (where
// Postgres would fail on it as an internal error).
@Injectable()
export class TeamIdPipe implements PipeTransform {
  transform(value: unknown): unknown {
    if (typeof value === 'object' && value !== null && 'teamId' in value && !isEntityId(value.teamId)) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'team_id is not a valid team id');
    }
    return value;
  }
}
