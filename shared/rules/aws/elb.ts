import type { ActivityDetector, AwsEventContext, CloudTrailRecord } from '../types';
import { arn, fail, field, int, lastPart, obj, objects, pass, request, resource, response, str } from './record';

/**
 * Load balancers facing the internet, and HTTP listeners that serve plain text (seed 002's alb_handler).
 * Request and response field names follow CloudTrail's lower-camel convention for ELB (unverified beyond
 * `scheme`, `protocol` and `port`): the response, which describes what was created, is preferred.
 */

/** The load balancer: v2 by ARN (response of create, request of delete), classic by name. */
function loadBalancerOf(record: CloudTrailRecord, ctx: AwsEventContext) {
  const created = objects(response(record).loadBalancers)[0];
  const req = request(record);
  const lbArn = str(created?.loadBalancerArn) ?? str(req.loadBalancerArn);
  if (lbArn) return resource('AWS::ElasticLoadBalancingV2::LoadBalancer', lbArn, str(created?.loadBalancerName) ?? lbNameOf(lbArn));
  const classic = str(req.loadBalancerName);
  return classic ? resource('AWS::ElasticLoadBalancing::LoadBalancer', arn(ctx, 'elasticloadbalancing', `loadbalancer/${classic}`), classic) : undefined;
}

/** `...:loadbalancer/app/<name>/<id>` -> `<name>`. */
function lbNameOf(lbArn: string): string {
  const parts = lbArn.split('/');
  return parts.length >= 3 ? parts[parts.length - 2]! : lastPart(lbArn);
}

/** `...:listener/app/<lb name>/<lb id>/<listener id>` on port p -> `<lb name>:p`. */
function listenerName(listenerArn: string, port: number | undefined): string {
  const parts = listenerArn.split('/');
  const lb = parts.length >= 4 ? parts[parts.length - 3]! : lastPart(listenerArn);
  return port === undefined ? lb : `${lb}:${port}`;
}

export const elbInternetFacing: ActivityDetector = {
  id: 'aws.elb.internet-facing',
  title: 'Internet-facing load balancer created',
  severity: 'LOW',
  cloud: 'aws',
  category: 'activity',
  service: 'elasticloadbalancing',
  risk: 'An internet-facing load balancer publishes whatever its targets serve; one created by mistake (the scheme defaults to internet-facing) exposes internal services.',
  remediation: {
    text: 'Confirm the service is meant to be public; otherwise recreate the load balancer with the internal scheme. Public ones want HTTPS listeners, a WAF and narrow security groups.',
    url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html',
  },
  eventSource: 'elasticloadbalancing.amazonaws.com',
  eventNames: ['CreateLoadBalancer', 'DeleteLoadBalancer'],
  match(record, ctx) {
    const lb = loadBalancerOf(record, ctx);
    if (!lb) return [];
    if (record.eventName === 'DeleteLoadBalancer') return [pass(lb, '', 'load balancer deleted')];
    const created = objects(response(record).loadBalancers)[0];
    // Both ELB APIs default to internet-facing when no scheme is given.
    const scheme = str(created?.scheme) ?? str(request(record).scheme) ?? 'internet-facing';
    if (scheme !== 'internet-facing') return [];
    return [
      fail(lb, '', { scheme, type: str(created?.type) ?? str(request(record).type) ?? 'classic', dnsName: str(field(created, 'dNSName', 'dnsName', 'DNSName')) ?? 'unknown' }, { title: `Internet-facing load balancer ${lb.name} created` }),
    ];
  },
};

/** Whether default actions send every request to HTTPS (a redirect whose protocol is HTTPS). */
function redirectsToHttps(actions: unknown): boolean {
  const list = objects(actions);
  if (list.length === 0) return false;
  return list.every((action) => {
    if (str(field(action, 'type', 'Type'))?.toLowerCase() !== 'redirect') return false;
    const redirect = obj(field(action, 'redirectConfig', 'RedirectConfig'));
    return str(field(redirect, 'protocol', 'Protocol'))?.toUpperCase() === 'HTTPS';
  });
}

export const elbListenerWithoutTls: ActivityDetector = {
  id: 'aws.elb.listener-without-tls',
  title: 'Load balancer listener serves plain HTTP',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'elasticloadbalancing',
  risk: 'An HTTP listener that does not redirect to HTTPS carries requests, cookies and credentials in clear text across the network.',
  remediation: {
    text: 'Serve HTTPS (or TLS) with an ACM certificate, and make the HTTP listener a redirect to HTTPS (status HTTP_301).',
    url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html',
  },
  eventSource: 'elasticloadbalancing.amazonaws.com',
  eventNames: ['CreateListener', 'ModifyListener', 'DeleteListener'],
  match(record) {
    const req = request(record);
    const described = objects(response(record).listeners)[0];
    const listenerArn = str(described?.listenerArn) ?? str(req.listenerArn);
    if (!listenerArn) return [];
    const port = int(described?.port) ?? int(req.port);
    const listener = resource('AWS::ElasticLoadBalancingV2::Listener', listenerArn, listenerName(listenerArn, port));
    if (record.eventName === 'DeleteListener') return [pass(listener, '', 'listener deleted')];
    // The response describes the whole listener after the change; a Modify request names only what changed.
    const protocol = str(described?.protocol) ?? str(req.protocol);
    if (!protocol) return [];
    const actions = described?.defaultActions ?? req.defaultActions;
    if (protocol.toUpperCase() !== 'HTTP' || redirectsToHttps(actions)) return [pass(listener, '', `listener is ${protocol.toUpperCase() === 'HTTP' ? 'a redirect to HTTPS' : protocol}`)];
    return [fail(listener, '', { protocol, port: port ?? null, loadBalancerArn: str(described?.loadBalancerArn) ?? str(req.loadBalancerArn) ?? null }, { title: `Load balancer listener ${listener.name} serves plain HTTP` })];
  },
};
