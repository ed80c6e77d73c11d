import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { MessagePattern } from '@nestjs/microservices';
import type { RpcDefinition } from '@overskill/contracts';

// `@RpcHandler(Rpc.gitRepoCommit)` instead of a subject string: the registry is the only source.
export function RpcHandler(def: RpcDefinition): MethodDecorator {
  return MessagePattern(def.subject);
}

export type RpcRequest<D> = D extends RpcDefinition<infer Req extends DescMessage, DescMessage> ? MessageShape<Req> : never;
// What a caller sends (the request's init shape) and gets back (the reply as decoded).
export type RpcRequestInit<D> = D extends RpcDefinition<infer Req extends DescMessage, DescMessage> ? MessageInitShape<Req> : never;
export type RpcResponse<D> = D extends RpcDefinition<DescMessage, infer Res extends DescMessage> ? MessageShape<Res> : never;
export type RpcReply<D> = D extends RpcDefinition<DescMessage, infer Res extends DescMessage> ? MessageInitShape<Res> : never;
