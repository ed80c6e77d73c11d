// The repositories tools use (ToolDependencies), provided together.
export const TOOL_DEPENDENCIES = Symbol('TOOL_DEPENDENCIES');
