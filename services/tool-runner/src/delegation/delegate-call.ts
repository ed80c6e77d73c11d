import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { AppError, ErrorCode, type RpcDefinition } from '@overskill/contracts';
import type { NatsRpcClient } from '@overskill/messaging';

// Nobody serving the subject (the owner is down, or not yet rolled out with it) is one thing
// the model can act on: carry on without this tool. The owner's own codes pass through.
const UNAVAILABLE = new Set<string>([ErrorCode.RPC_NO_RESPONDERS, ErrorCode.SUBJECT_UNKNOWN, ErrorCode.RPC_TIMEOUT, ErrorCode.RPC_CONNECTION_CLOSED]);

export async function delegateCall<Req extends DescMessage, Res extends DescMessage>(
  client: NatsRpcClient,
  def: RpcDefinition<Req, Res>,
  request: MessageInitShape<Req>,
  opts: { timeoutMs: number; tenantId?: string },
): Promise<MessageShape<Res>> {
  try {
    return await client.send(def, request, { timeoutMs: opts.timeoutMs, tenantId: opts.tenantId || undefined });
  } catch (err) {
    if (err instanceof AppError && UNAVAILABLE.has(err.code)) {
      const why =
        err.code === ErrorCode.RPC_TIMEOUT ? 'did not answer in time' : err.code === ErrorCode.SUBJECT_UNKNOWN ? 'does not serve it yet' : 'is not running';
      throw new AppError(ErrorCode.TOOL_DEPENDENCY_UNAVAILABLE, `${def.owner} ${why} (${def.subject}: ${err.code}); this tool cannot work right now`, {
        subject: def.subject,
        cause: err.code,
      });
    }
    throw err;
  }
}
