// The JSON the node answers (docs/node-interfaces.md), as far as the app reads it.

export interface NodeStatus {
  chain_id: string;
  genesis_hash: string;
  height: number;
  time_ms: number;
}

export interface AccountInfo {
  account: string;
  balance: number;
  nonce: number;
  next_nonce: number;
  roles: string[];
}

export type ConsentStatus = "ConsentGiven" | "ConsentWithdrawn" | "ConsentExpired" | "ConsentPaused";

export interface Consent {
  id: string;
  consumer: string;
  enterprise: string;
  categories: string[];
  purposes: string[];
  level: string;
  price_per_use: number;
  max_uses: number | null;
  used: number;
  expires_at: number | null;
  request: string | null;
  granted_height: number;
  granted_time: number;
  status: ConsentStatus;
  /** The score 1–5 I gave the enterprise under this consent, or null if not rated. */
  rating: number | null;
}

export interface UseRow {
  use_id: string;
  height: number;
  /** The block's time (Unix ms, from its header); null if the node no longer keeps the block. */
  time: number | null;
  tx_id: string;
  index: number;
  enterprise: string;
  basis: { consent: string } | { policy: string } | null;
  category: string | null;
  purpose: string | null;
  units: number | null;
  settled: boolean;
  paid: number;
  to_consumer: number;
  code: string | null;
  reason: string | null;
}

export interface Earnings {
  consumer: string;
  earned: number;
  uses_settled: number;
  balance: number;
  referral_earned: number;
}

export interface Reputation {
  ratings: number;
  average_score_x100: number;
  uses_settled: number;
  uses_rejected: number;
  honoured_bps: number | null;
  uses_after_revocation: number;
  points_paid: number;
}

export interface Enterprise {
  account: string;
  name: string;
  sector: string;
  jurisdiction: string;
  policy_url: string;
  status: string;
  admitted_at: number;
  reputation: Reputation;
  contact: { email: string; phone: string; address: string; notice_url: string } | null;
}

export interface Policy {
  id: string;
  consumer: string;
  target: { sector: string } | { enterprise: string };
  categories: string[];
  purposes: string[];
  level: string;
  min_price: number;
  set_height: number;
}
