import { TurnContext, type Activity } from 'botbuilder';
import type { TurnContext as CoreTurn } from '../core/turn';

/** Activity → the plain data the core works with (DESIGN.md "Contract": Teams identity fields). */
export function toCoreTurn(activity: Activity): CoreTurn {
  const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string } };
  return {
    activityId: activity.id ?? '',
    tenantId: tenantOf(activity.conversation?.tenantId, channelData.tenant?.id),
    userId: activity.from?.aadObjectId,
    userName: activity.from?.name ?? '',
    locale: activity.locale,
    conversation: TurnContext.getConversationReference(activity) as unknown as Record<string, unknown>,
  };
}

/**
 * The tenant an activity comes from. Teams sets both `conversation.tenantId` and
 * `channelData.tenant.id`; when they disagree the activity is not to be trusted, and no tenant
 * means the tenant check refuses it (issue #13, hole 9).
 */
function tenantOf(conversationTenant: string | undefined, channelTenant: string | undefined): string | undefined {
  if (conversationTenant && channelTenant && conversationTenant.toLowerCase() !== channelTenant.toLowerCase()) return undefined;
  return conversationTenant ?? channelTenant;
}
