import { TurnContext, type Activity } from 'botbuilder';
import type { TurnContext as CoreTurn } from '../core/turn';

/** Activity → the plain data the core works with (DESIGN.md "Contract": Teams identity fields). */
export function toCoreTurn(activity: Activity): CoreTurn {
  const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string } };
  return {
    activityId: activity.id ?? '',
    tenantId: activity.conversation?.tenantId ?? channelData.tenant?.id,
    userId: activity.from?.aadObjectId,
    userName: activity.from?.name ?? '',
    locale: activity.locale,
    conversation: TurnContext.getConversationReference(activity) as unknown as Record<string, unknown>,
  };
}
