import { expect } from 'chai';
import { describeNotice, noticeSubject } from '../../shared/notify/notice-view';
import { renderFindingEmail, SEVERITY_COLOURS } from '../../shared/notify/email';
import { renderChatPayload, renderFindingAdaptiveCard, renderSlackMessage, renderTeamsConnectorMessage } from '../../shared/notify/chat';
import { renderSnsMessage, SNS_SUBJECT_MAX } from '../../shared/notify/sns';
import { escapeHtml } from '../../shared/notify/text';
import { azureNotice, HOSTILE, hostileNotice, openedNotice, reopenedNotice, resolvedNotice } from './support/notices';

describe('notice rendering (shared/notify)', () => {
  describe('email', () => {
    it('subject: brand, severity, transition, title and resource, ASCII on one line', () => {
      const { subject } = renderFindingEmail(openedNotice());
      expect(subject).to.equal('[shipscan] CRITICAL opened: Security group open to the internet on tcp/22 (sg-0abc)');
      expect(renderFindingEmail(resolvedNotice()).subject).to.match(/^\[shipscan\] CRITICAL resolved: /);
      expect(renderFindingEmail(reopenedNotice()).subject).to.match(/^\[shipscan\] CRITICAL reopened: /);
    });

    it('subject stays bounded and readable whatever the title and name hold', () => {
      const notice = openedNotice({
        title: `Ünïcödé title\r\nBcc: victim@example.com ${'x'.repeat(400)}`,
        resource: { type: 'AWS::S3::Bucket', id: 'arn:aws:s3:::b', name: `bücket-${'n'.repeat(200)}` },
      });
      const { subject } = renderFindingEmail(notice);
      expect(subject.length).to.be.at.most(140);
      expect(subject).to.match(/^[\x20-\x7e]+$/);
      expect(subject).to.match(/^\[shipscan\] CRITICAL opened: Unicode title Bcc: victim@example.com x+\.\.\. \(bucket-n+\.\.\.\)$/);
      expect(renderFindingEmail(notice, { subjectMaxLength: 60 }).subject.length).to.be.at.most(60);
    });

    it('escapes every attacker-controlled value in the HTML (names, actor, evidence)', () => {
      const { html } = renderFindingEmail(hostileNotice());
      expect(html).to.not.include('<script');
      expect(html).to.not.include('<img');
      expect(html).to.not.include('<b>mallory');
      expect(html).to.not.match(/onerror\s*=\s*"/);
      expect(html).to.include(escapeHtml(HOSTILE.name));
      expect(html).to.include('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
      expect(html).to.include('&lt;/pre&gt;&lt;img src=x onerror=\\&quot;alert(1)\\&quot;&gt; &amp; &#39;quoted&#39;');
      expect(html).to.include('user/&lt;b&gt;mallory&lt;/b&gt;');
    });

    it('HTML is self-contained: inline styles, no stylesheet, script, image, font or remote resource', () => {
      const { html } = renderFindingEmail(openedNotice());
      for (const banned of ['<style', '<link', '<script', '<img', 'src=', 'url(', '@import', '@font-face', 'background-image']) expect(html, banned).to.not.include(banned);
      const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
      expect(hrefs).to.deep.equal(['https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html']);
      expect(html).to.include(`background:${SEVERITY_COLOURS.CRITICAL}`);
      expect(html).to.match(/^<!DOCTYPE html>/);
    });

    it('the plain-text part tells the same facts, evidence, remediation and footer as the HTML', () => {
      const notice = hostileNotice();
      const { text, html } = renderFindingEmail(notice);
      const view = describeNotice(notice);
      expect(view.facts.map((f) => f.label)).to.deep.equal(['Resource', 'Resource id', 'Account', 'Region', 'Actor', 'Source IP', 'Event', 'When', 'Subject']);
      for (const fact of view.facts) {
        expect(text, fact.label).to.match(new RegExp(`^${fact.label}:\\s+${fact.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
        expect(html, fact.label).to.include(escapeHtml(fact.value));
      }
      for (const line of view.evidence!.split('\n')) {
        expect(text).to.include(line);
        expect(html).to.include(escapeHtml(line));
      }
      for (const part of [notice.finding.remediation.text, notice.finding.remediation.url!, notice.finding.id, notice.finding.ruleId]) {
        expect(text).to.include(part);
        expect(html).to.include(escapeHtml(part));
      }
      expect(text).to.match(/^Account:\s+123456789012$/m);
      expect(text).to.match(/^Actor:\s+arn:aws:iam::123456789012:user\/<b>mallory<\/b>$/m);
      expect(text).to.match(/^Event:\s+AuthorizeSecurityGroupIngress \(event e-1\)$/m);
      expect(text).to.match(/^Source IP:\s+198\.51\.100\.7$/m);
    });

    it('states each transition: opened, reopened with its count, resolved with its reason', () => {
      expect(renderFindingEmail(openedNotice()).text).to.include('Opened at 2026-12-01T10:00:00.000Z.');
      const reopened = renderFindingEmail(reopenedNotice());
      expect(reopened.text).to.include('Reopened at 2026-12-01T12:00:00.000Z (reopened once; first seen 2026-12-01T10:00:00.000Z).');
      expect(reopened.html).to.include('CRITICAL &middot; REOPENED');
      const resolved = renderFindingEmail(resolvedNotice('rule removed'));
      expect(resolved.text).to.include('Resolved at 2026-12-01T11:00:00.000Z: rule removed.');
      expect(resolved.html).to.include('CRITICAL &middot; RESOLVED');
    });

    it('links only http(s) remediation URLs', () => {
      const notice = openedNotice({ remediation: { text: 'Do it.', url: 'javascript:alert(1)' } });
      const { html, text } = renderFindingEmail(notice);
      expect(html).to.not.include('href=');
      expect(html).to.not.include('javascript:');
      expect(text).to.not.include('javascript:');
    });

    it('Azure findings name the subscription instead of an account', () => {
      const { text, subject } = renderFindingEmail(azureNotice());
      expect(subject).to.equal('[shipscan] HIGH opened: NSG rule open to the internet on tcp/3389 (web-nsg)');
      expect(text).to.match(/^Subscription:\s+0b1f6471-1bf0-4dda-aec3-cb9272f09590$/m);
      expect(text).to.not.include('Account:');
    });

    it('vulnerability findings show CVEs, package and fixed version', () => {
      const notice = openedNotice({ category: 'vulnerability', vulnerability: { cves: ['CVE-2024-3094'], package: 'xz-utils', installedVersion: '5.6.0', fixedVersion: '5.6.2', qid: '379548' } });
      const { text } = renderFindingEmail(notice);
      expect(text).to.match(/^CVEs:\s+CVE-2024-3094$/m);
      expect(text).to.match(/^Package:\s+xz-utils 5\.6\.0 \(fixed in 5\.6\.2\)$/m);
    });
  });

  describe('chat', () => {
    it('Slack: text fallback plus blocks, with <, > and & escaped (no mention or link injection)', () => {
      const message = renderSlackMessage(hostileNotice());
      expect(message.text).to.match(/^:red_circle: \[shipscan\] CRITICAL opened: /);
      const all = JSON.stringify(message);
      expect(all).to.not.include('<script');
      expect(all).to.not.include('<b>');
      expect(all).to.include('&lt;script&gt;');
      expect(message.blocks.map((b) => b['type'])).to.deep.equal(['header', 'section', 'section', 'section', 'section', 'context']);
      const evidence = (message.blocks[3] as { text: { text: string } }).text.text;
      expect(evidence).to.match(/^\*Evidence\*\n```[\s\S]*```$/);
      const remediation = (message.blocks[4] as { text: { text: string } }).text.text;
      expect(remediation).to.include('<https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html|Remediation guide>');
    });

    it('Slack: keeps within block limits when evidence and remediation are long', () => {
      const notice = openedNotice({ evidence: { blob: '<&>'.repeat(1300) }, remediation: { text: '<'.repeat(5000) } });
      const message = renderSlackMessage(notice);
      for (const block of message.blocks) {
        const text = (block as { text?: { text: string } }).text?.text;
        if (text !== undefined) expect(text.length).to.be.at.most(block['type'] === 'header' ? 150 : 3000);
      }
      const evidence = (message.blocks[3] as { text: { text: string } }).text.text;
      expect(evidence.endsWith('```')).to.equal(true);
      expect(evidence).to.not.match(/&(a|am|l|g)?\.\.\./);
    });

    it('Teams connector: one {text}, HTML escaped, hostile link syntax defused', () => {
      const notice = openedNotice({ resource: { type: 't', id: 'i', name: '[sign in](https://evil.example)<x>' } });
      const body = renderTeamsConnectorMessage(notice);
      expect(Object.keys(body)).to.deep.equal(['text']);
      expect(body.text).to.include('[sign in]\u200b(https://evil.example)&lt;x&gt;');
      expect(body.text).to.include('**Resource id:** i');
    });

    it('Teams Workflows: an Adaptive Card message with the facts and a remediation action', () => {
      const card = renderFindingAdaptiveCard(hostileNotice()) as { type: string; attachments: { contentType: string; content: { version: string; body: Record<string, unknown>[]; actions: { url: string }[] } }[] };
      expect(card.type).to.equal('message');
      const content = card.attachments[0]!.content;
      expect(card.attachments[0]!.contentType).to.equal('application/vnd.microsoft.card.adaptive');
      expect(content.version).to.equal('1.4');
      const facts = (content.body.find((b) => b['type'] === 'FactSet') as { facts: { title: string; value: string }[] }).facts;
      expect(facts.find((f) => f.title === 'Actor')?.value).to.equal(HOSTILE.actor);
      expect(content.actions[0]!.url).to.equal('https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html');
    });

    it('picks the body by kind and, for Teams, by URL (the rule scan alerts use)', () => {
      const notice = openedNotice();
      expect(renderChatPayload('slack', 'https://hooks.slack.com/services/T/B/x', notice)).to.have.keys('text', 'blocks');
      expect(renderChatPayload('teams', 'https://contoso.webhook.office.com/webhookb2/a/IncomingWebhook/b/c', notice)).to.have.keys('text');
      expect(renderChatPayload('teams', 'https://prod-12.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke?sig=x', notice)).to.have.property('type', 'message');
    });
  });

  describe('SNS', () => {
    it('JSON body with the finding, filterable attributes, subject under the SNS limit', () => {
      const notice = openedNotice({ title: `Tïtle ${'y'.repeat(200)}` });
      const { subject, message, attributes } = renderSnsMessage(notice);
      expect(subject.length).to.be.at.most(SNS_SUBJECT_MAX).and.to.be.lessThan(100);
      expect(subject).to.match(/^[\x20-\x7e]+$/);
      expect(attributes).to.deep.equal({ severity: 'CRITICAL', category: 'activity', ruleId: 'aws.ec2.open-ingress', cloud: 'aws', transition: 'open', account: '123456789012', region: 'us-east-1' });
      const body = JSON.parse(message) as { type: string; transition: string; finding: { id: string } };
      expect(body).to.include({ type: 'ShipscanFindingNotice', transition: 'open' });
      expect(body.finding.id).to.equal(notice.finding.id);
    });

    it('Azure: subscription instead of account', () => {
      const { attributes } = renderSnsMessage(azureNotice());
      expect(attributes).to.include({ subscription: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', cloud: 'azure', severity: 'HIGH', category: 'posture' });
      expect(attributes).to.not.have.property('account');
      expect(Object.values(attributes).every((v) => v.length > 0)).to.equal(true);
    });
  });

  it('noticeSubject keeps severity, verb and resource when the room is small', () => {
    const view = describeNotice(openedNotice({ title: 'z'.repeat(300) }));
    const subject = noticeSubject(view, 80);
    expect(subject.length).to.be.at.most(80);
    expect(subject).to.match(/^\[shipscan\] CRITICAL opened: z+\.\.\. \(sg-0abc\)$/);
  });
});
