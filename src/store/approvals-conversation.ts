import type { Store } from './store';
import type { ConversationRef, RequestRecord } from '../model/requests';

/** Settings key of the conversation approval cards go to (`approvals here`). */
export const approvalsConversationKey = 'approvals-conversation';

/** Where approvers are asked: the conversation chosen with `approvals here`, else the requester's. */
export async function approvalsConversation(store: Store, request: Pick<RequestRecord, 'conversation'>): Promise<ConversationRef> {
  return (await store.getSetting<ConversationRef>(approvalsConversationKey)) ?? request.conversation;
}
