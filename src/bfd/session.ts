// One BFD session: the RFC 5880 §6.8 state machine in asynchronous mode. Variable names follow the
// RFC's bfd.* state variables. Time is in microseconds inside (the wire unit) and the clock is
// injected. The session never touches a socket: it hands encoded-ready packets to `send`.
import type { Clock, Random, Timer } from './clock.ts';
import { type ControlFields, type ControlPacket, Diag, type DiscardReason, SessionState } from './packet.ts';
import type { BfdProfile } from './profile.ts';

/** §6.8.3: while the session is not Up, DesiredMinTxInterval must be at least one second. */
export const SLOW_TX_US = 1_000_000;

export interface SessionEnv {
  readonly clock: Clock;
  readonly random: Random;
  send(packet: ControlFields): void;
  onStateChange(from: SessionState, to: SessionState, diag: Diag): void;
}

export interface SessionSnapshot {
  readonly state: SessionState;
  readonly remoteState: SessionState;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly diag: Diag;
  readonly remoteDiag: Diag;
  /** The interval we transmit at now (before jitter), ms. */
  readonly negotiatedTxMs: number;
  /** The interval we expect packets at: max(our required min RX, remote desired min TX), ms. */
  readonly negotiatedRxMs: number;
  readonly detectionTimeMs: number;
  readonly remoteDetectMult: number;
  readonly pollActive: boolean;
  readonly passive: boolean;
  /** Packets accepted / sent by this session since it started (rates show the negotiated timers in effect). */
  readonly received: number;
  readonly transmitted: number;
  /** The peer's last C bit: its BFD survives a restart of its control plane (RFC 5882 §4.3). */
  readonly remoteControlPlaneIndependent: boolean;
}

const us = (ms: number): number => Math.round(ms * 1000);

export class BfdSession {
  private sessionState = SessionState.Down;
  private remoteSessionState = SessionState.Down;
  private remoteDiscr = 0;
  private localDiag = Diag.None;
  private remoteDiag = Diag.None;
  private detectMult: number;
  private remoteDetectMult = 0;
  /** What we advertise (bfd.DesiredMinTxInterval / bfd.RequiredMinRxInterval). */
  private desiredMinTx: number;
  private requiredMinRx: number;
  /** What timers use; differs from the advertised values only while a poll sequence runs (§6.8.3). */
  private effectiveTx: number;
  private effectiveRx: number;
  private remoteMinRx = 1;
  private remoteDesiredMinTx = 0;
  private pollActive = false;
  private passive: boolean;
  private configuredTx: number;
  private configuredRx: number;
  private txTimer: Timer | undefined;
  private txDue = 0;
  private detectTimer: Timer | undefined;
  /** Bumped whenever detection is re-armed, so a deferred expiry can tell that a packet came in. */
  private detectGen = 0;
  private stopped = false;
  private received = 0;
  private remoteCBit = false;
  private transmitted = 0;

  constructor(readonly localDiscr: number, profile: BfdProfile, private readonly env: SessionEnv) {
    this.detectMult = profile.detectMultiplier;
    this.passive = profile.passiveMode;
    this.configuredTx = us(profile.transmitIntervalMs);
    this.configuredRx = us(profile.receiveIntervalMs);
    this.desiredMinTx = this.effectiveTx = Math.max(this.configuredTx, SLOW_TX_US);
    this.requiredMinRx = this.effectiveRx = this.configuredRx;
  }

  start(): void { this.scheduleTx(true); }

  /** Stops all timers; with adminDown, first tells the peer (state AdminDown, diag 7) so it goes Down at once. */
  stop(adminDown: boolean): void {
    if (this.stopped) return;
    if (adminDown && this.sessionState !== SessionState.AdminDown) {
      this.setState(SessionState.AdminDown, Diag.AdministrativelyDown);
      if (this.remoteDiscr !== 0 || !this.passive) this.transmit(false);
    }
    this.stopped = true;
    this.txTimer?.cancel();
    this.detectTimer?.cancel();
  }

  get state(): SessionState { return this.sessionState; }

  snapshot(): SessionSnapshot {
    return {
      state: this.sessionState, remoteState: this.remoteSessionState,
      localDiscriminator: this.localDiscr, remoteDiscriminator: this.remoteDiscr,
      diag: this.localDiag, remoteDiag: this.remoteDiag,
      negotiatedTxMs: this.txIntervalUs() / 1000,
      negotiatedRxMs: Math.max(this.effectiveRx, this.remoteDesiredMinTx) / 1000,
      detectionTimeMs: this.detectionTimeUs() / 1000,
      remoteDetectMult: this.remoteDetectMult, pollActive: this.pollActive, passive: this.passive,
      received: this.received, transmitted: this.transmitted, remoteControlPlaneIndependent: this.remoteCBit,
    };
  }

  /** New timers or mode. While Up a change of advertised intervals runs a poll sequence (§6.8.3). */
  updateProfile(profile: BfdProfile): void {
    this.detectMult = profile.detectMultiplier;
    this.passive = profile.passiveMode;
    this.configuredTx = us(profile.transmitIntervalMs);
    this.configuredRx = us(profile.receiveIntervalMs);
    if (this.sessionState === SessionState.Up) {
      this.changeIntervals(this.configuredTx, this.configuredRx);
    } else {
      this.desiredMinTx = this.effectiveTx = Math.max(this.configuredTx, SLOW_TX_US);
      this.requiredMinRx = this.effectiveRx = this.configuredRx;
    }
    this.scheduleTx(false);
  }

  /** §6.8.6 from "set bfd.RemoteDiscr" on; the packet passed decodeControl and demultiplexing. */
  receive(p: ControlPacket): DiscardReason | undefined {
    if (this.stopped) return 'no-session';
    // Demand mode is refused: we never set D, and a peer that asks us to stop transmitting would make
    // our detection meaningless, so its packets are discarded (the session times out with diag 1).
    if (p.demand) return 'demand-mode-not-supported';
    this.received++;
    this.remoteDiscr = p.myDiscriminator;
    this.remoteSessionState = p.state;
    this.remoteDiag = p.diag;
    this.remoteCBit = p.controlPlaneIndependent;
    this.remoteMinRx = p.requiredMinRxUs;
    this.remoteDesiredMinTx = p.desiredMinTxUs;
    this.remoteDetectMult = p.detectMult;
    if (p.final && this.pollActive) this.terminatePoll();
    if (this.sessionState === SessionState.AdminDown) return 'admin-down';

    const was = this.sessionState;
    if (p.state === SessionState.AdminDown) {
      if (this.sessionState !== SessionState.Down) this.goDown(Diag.NeighborSignaledSessionDown);
    } else if (this.sessionState === SessionState.Down) {
      if (p.state === SessionState.Down) this.setState(SessionState.Init, this.localDiag);
      else if (p.state === SessionState.Init) this.goUp();
    } else if (this.sessionState === SessionState.Init) {
      if (p.state === SessionState.Init || p.state === SessionState.Up) this.goUp();
    } else if (p.state === SessionState.Down) {
      this.goDown(Diag.NeighborSignaledSessionDown);
    }

    this.armDetection();
    if (p.poll) this.transmit(true);
    // A state change, or a first packet to a passive session, is answered at once rather than at
    // the next tick: it halves the time to Up and tells the peer about Down without delay.
    this.scheduleTx(was !== this.sessionState && !p.poll);
    return undefined;
  }

  private goUp(): void {
    this.setState(SessionState.Up, Diag.None);
    // Leave the slow rate: advertising the configured interval is a timer change, hence a poll.
    this.changeIntervals(this.configuredTx, this.configuredRx);
  }

  private goDown(diag: Diag): void {
    this.pollActive = false;
    this.desiredMinTx = this.effectiveTx = Math.max(this.configuredTx, SLOW_TX_US);
    this.requiredMinRx = this.effectiveRx = this.configuredRx;
    this.setState(SessionState.Down, diag);
  }

  private setState(to: SessionState, diag: Diag): void {
    const from = this.sessionState;
    this.localDiag = diag;
    if (from === to) return;
    this.sessionState = to;
    this.env.onStateChange(from, to, diag);
  }

  private changeIntervals(tx: number, rx: number): void {
    if (tx === this.desiredMinTx && rx === this.requiredMinRx && !this.pollActive) return;
    // §6.8.3: a larger TX takes effect only after the poll; a smaller RX likewise (for detection).
    this.effectiveTx = Math.min(this.effectiveTx, tx);
    this.effectiveRx = Math.max(this.effectiveRx, rx);
    this.desiredMinTx = tx;
    this.requiredMinRx = rx;
    this.pollActive = true;
  }

  private terminatePoll(): void {
    this.pollActive = false;
    this.effectiveTx = this.desiredMinTx;
    this.effectiveRx = this.requiredMinRx;
    this.armDetection();
  }

  /** Actual transmit interval (§6.8.7): the larger of our desired TX and the peer's required RX. */
  private txIntervalUs(): number { return Math.max(this.effectiveTx, this.remoteMinRx); }

  /** §6.8.4, asynchronous mode: remote multiplier × agreed interval. */
  private detectionTimeUs(): number {
    return this.remoteDetectMult * Math.max(this.effectiveRx, this.remoteDesiredMinTx);
  }

  private armDetection(): void {
    this.detectTimer?.cancel();
    const gen = ++this.detectGen;
    const t = this.detectionTimeUs();
    if (t <= 0 || this.stopped) return;
    this.detectTimer = this.env.clock.setTimer(t / 1000, () => {
      this.env.clock.defer(() => { if (gen === this.detectGen && !this.stopped) this.detectionExpired(); });
    });
  }

  private detectionExpired(): void {
    this.detectTimer = undefined;
    const wasActive = this.sessionState === SessionState.Init || this.sessionState === SessionState.Up;
    // §6.8.1: with no packet for a detection time the remote discriminator is forgotten.
    this.remoteDiscr = 0;
    this.remoteSessionState = SessionState.Down;
    this.remoteMinRx = 1;
    this.remoteDesiredMinTx = 0;
    this.remoteDetectMult = 0;
    if (wasActive) this.goDown(Diag.ControlDetectionTimeExpired);
    this.scheduleTx(wasActive);
  }

  private mayTransmit(): boolean {
    if (this.stopped) return false;
    if (this.passive && this.remoteDiscr === 0) return false; // §6.8.7: passive waits for the peer
    return this.remoteMinRx !== 0;
  }

  /** Interval for the next packet with the §6.8.7 jitter: 75–100 %, or 75–90 % when detect mult is 1. */
  private jittered(): number {
    const base = this.txIntervalUs();
    const r = this.env.random();
    const f = this.detectMult === 1 ? 0.75 + 0.15 * r : 1 - 0.25 * r;
    return (base * f) / 1000;
  }

  /**
   * (Re)plans the periodic transmission. `now` sends one packet immediately; otherwise the next
   * packet keeps its slot unless the (possibly shorter) new interval brings it forward.
   */
  private scheduleTx(now: boolean): void {
    if (!this.mayTransmit()) {
      this.txTimer?.cancel();
      this.txTimer = undefined;
      return;
    }
    if (now) this.transmit(false);
    const next = this.env.clock.now() + this.jittered();
    if (!now && this.txTimer && this.txDue <= next) return;
    this.txTimer?.cancel();
    this.txDue = next;
    this.txTimer = this.env.clock.setTimer(next - this.env.clock.now(), () => {
      this.txTimer = undefined;
      this.scheduleTx(true);
    });
  }

  private transmit(final: boolean): void {
    this.transmitted++;
    this.env.send({
      diag: this.localDiag, state: this.sessionState,
      poll: this.pollActive && !final, final,
      // C bit clear: ironlb's BFD lives in the same process as its BGP, so a control-plane restart
      // takes BFD down too; claiming independence would mislead the peer (RFC 5882 §4.3).
      controlPlaneIndependent: false,
      demand: false, detectMult: this.detectMult,
      myDiscriminator: this.localDiscr, yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: this.desiredMinTx, requiredMinRxUs: this.requiredMinRx, requiredMinEchoRxUs: 0,
    });
  }
}
