import { ExceptionsRegister } from '../exceptions/register';
import { RequestExecution } from './execution';
import { RequestLifecycle, type LifecycleDeps } from './lifecycle';
import { RequestNotification } from './notification';

/** The request modules wired together once: each depends only on those before it. */
export interface RequestServices {
  exceptions: ExceptionsRegister;
  lifecycle: RequestLifecycle;
  notification: RequestNotification;
  execution: RequestExecution;
}

export function requestServices(deps: LifecycleDeps & { newId: () => string }): RequestServices {
  const exceptions = new ExceptionsRegister(deps);
  const lifecycle = new RequestLifecycle(deps, exceptions);
  const notification = new RequestNotification(deps, lifecycle);
  const execution = new RequestExecution(deps, lifecycle, notification);
  return { exceptions, lifecycle, notification, execution };
}
