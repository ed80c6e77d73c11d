import { trace, TraceFlags, type Context } from '@opentelemetry/api';

// Whether the context carries a span of a trace its root chose not to record. Under the
// platform's ParentBased sampler a child of it would be a non-recording span: creating one
// costs ids, a sampler call and context churn, and records nothing.
export function unsampled(ctx: Context): boolean {
  const parent = trace.getSpanContext(ctx);
  return parent !== undefined && trace.isSpanContextValid(parent) && (parent.traceFlags & TraceFlags.SAMPLED) === 0;
}
