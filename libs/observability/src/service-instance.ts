import { hostname } from 'node:os';

// One id per process, shared by log lines (`instance`) and the trace resource (`service.instance.id`),
// so a log line and its spans point at the same replica. In k8s the hostname is the pod name.
export const serviceInstanceId = `${hostname()}-${process.pid}`;
