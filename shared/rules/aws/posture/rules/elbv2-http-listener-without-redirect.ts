import type { AwsPostureRule } from '../types';
import { notApplicable } from '../types';
import { LOAD_BALANCER } from '../kinds';
import type { ListenerShape, LoadBalancerShape } from '../shapes';
import { failing, failure } from './common';

function redirectsToHttps(listener: ListenerShape): boolean {
  return (listener.DefaultActions ?? []).some((action) => action.Type === 'redirect' && action.RedirectConfig?.Protocol === 'HTTPS');
}

export const elbv2HttpListenerWithoutRedirect: AwsPostureRule<LoadBalancerShape> = {
  id: 'aws.elbv2.http-listener-without-redirect',
  title: 'Internet-facing load balancer serves plain HTTP',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'elbv2',
  risk: 'An HTTP listener that forwards instead of redirecting to HTTPS serves the application in clear text: sessions and credentials can be read or changed on the way.',
  remediation: {
    text: "Change the HTTP listener's default action to a redirect to HTTPS (port 443, status HTTP_301), and serve the application from an HTTPS listener only.",
    url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions',
  },
  resourceType: LOAD_BALANCER.type,
  triggers: LOAD_BALANCER.triggers,
  evaluate(config) {
    if (config.Type !== 'application') return notApplicable(`a ${config.Type ?? 'unknown'} load balancer has no HTTP listeners`);
    if (config.Scheme !== 'internet-facing') return notApplicable('the load balancer is internal');
    return failing(
      config.Listeners.filter((l) => l.Protocol === 'HTTP' && !redirectsToHttps(l)).map((l) =>
        failure(
          `listener/HTTP:${l.Port ?? 'unknown'}`,
          { port: l.Port ?? null, defaultActions: (l.DefaultActions ?? []).map((a) => a.Type ?? 'unknown'), listenerArn: l.ListenerArn ?? null },
          { title: `Load balancer ${config.LoadBalancerName ?? config.LoadBalancerArn} serves HTTP on port ${l.Port ?? '?'} without redirecting to HTTPS` },
        ),
      ),
    );
  },
};
