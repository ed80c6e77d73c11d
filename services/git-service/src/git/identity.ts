import { AppError, ErrorCode } from '@overskill/contracts';
import { hasControlCharacter } from './control-characters';

export interface Identity {
  name: string;
  email: string;
}

export const AGENT_IDENTITY: Identity = { name: 'overskill agent', email: 'agent@overskill.local' };

// The acting user (or the agent when none is given), checked before git sees it: a name or
// email with <, > or a line break would forge or break the commit header.
export function identityFrom(name: string, email: string): Identity {
  const trimmedName = name.trim();
  const trimmedEmail = email.trim();
  if (!trimmedName && !trimmedEmail) return AGENT_IDENTITY;
  if (!trimmedName || trimmedName.length > 200 || /[<>]/.test(trimmedName) || hasControlCharacter(trimmedName)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'author_name must be 1 to 200 characters without <, > or control characters');
  }
  if (trimmedEmail.length > 254 || !/^[^\s<>@]+@[^\s<>@]+$/.test(trimmedEmail)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'author_email must be an email address');
  }
  return { name: trimmedName, email: trimmedEmail };
}
