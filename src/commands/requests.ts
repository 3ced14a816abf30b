import { z } from 'zod';
import { requestsCard } from '../cards/requests';
import type { ReadCommand } from './types';

/**
 * My requests on their way (Cancel where still mine to cancel) and, for approvers, those waiting
 * for my decision (Approve / Reject, the same verbs and rules as on approval cards). Everyone may
 * ask; an end user sees only their own. Reads the store only.
 */
export const requests: ReadCommand = {
  id: 'requests',
  kind: 'read',
  phrases: {
    en: ['requests', 'my requests', 'open requests', 'my open requests', 'show my requests', 'list my requests', 'pending approvals', 'my approvals', 'waiting for my approval', 'what is waiting for my approval'],
    es: ['solicitudes', 'mis solicitudes', 'solicitudes abiertas', 'mis solicitudes abiertas', 'ver mis solicitudes', 'aprobaciones pendientes', 'mis aprobaciones', 'pendiente de mi aprobacion'],
    pt: ['solicitacoes', 'minhas solicitacoes', 'solicitacoes abertas', 'meus pedidos', 'ver minhas solicitacoes', 'aprovacoes pendentes', 'minhas aprovacoes', 'aguardando minha aprovacao'],
    'zh-CN': ['请求', '我的请求', '未完成的请求', '查看我的请求', '待审批', '待我审批', '我的审批', '等待我审批的请求'],
    ro: ['cereri', 'cererile mele', 'cereri deschise', 'cererile mele deschise', 'arata cererile mele', 'aprobari in asteptare', 'aprobarile mele', 'asteapta aprobarea mea'],
  },
  example: { en: 'my requests', es: 'mis solicitudes', pt: 'minhas solicitações', 'zh-CN': '我的请求', ro: 'cererile mele' },
  params: z.object({}),
  audience: 'everyone',
  risk: 'read',
  run: async ({ t, requestsView }) => requestsCard(t, await requestsView()),
};
