import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

const BATCH = 500;

// Which apps still exist, asked of the orchestrator (it owns the app rows).
@Injectable()
export class AppRegistryRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  // Throws when the orchestrator does not answer: silence must never read as "no apps".
  async existing(appIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < appIds.length; i += BATCH) {
      const reply = await this.rpc.send(Rpc.appIdsExist, { appIds: appIds.slice(i, i + BATCH) });
      for (const id of reply.existingAppIds) found.add(id);
    }
    return found;
  }
}
