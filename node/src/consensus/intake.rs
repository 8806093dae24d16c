//! What a proposal stream must pass before this node spends memory, disk or
//! CPU on it. Any validator may be Byzantine and anyone may connect, so:
//!
//! - only validators publish: a part whose publisher (authenticated by
//!   libp2p, see [`super::peers`]) is not a validator of the current set is
//!   dropped before it is buffered; each validator may have at most
//!   [`STREAMS_PER_VALIDATOR`] streams open, and only its own streams compete
//!   for them, so nobody can evict an honest proposer's stream;
//! - a validator publishes only its own proposals: `Init.proposer` must be
//!   the publisher, and the proposer of (height, round);
//! - heights and rounds are bounded: a stream for a decided height, for a
//!   height more than [`HEIGHTS_AHEAD`] ahead, or for a round more than
//!   [`ROUNDS_AHEAD`] ahead is dropped;
//! - one value per (height, round): the first stream that passes is taken;
//!   a different one for the same slot (an equivocating proposer) is dropped
//!   unexecuted and logged. Streams for later heights wait in
//!   [`Intake::start_height`]'s slots, one per (height, round).
//!
//! The block-stream signature is checked by the caller when it judges the
//! stream (it needs the block hash, so the block is decoded once there).
//! A stream whose parts are all in but the `Fin` part (roots and signature)
//! is passed once, to be executed while its proposer executes, only if it
//! is for the current height, from the round's proposer, in a round whose
//! value is not taken ([`Accepted::Execute`]); it takes no slot.
//! Memory held here is bounded by validators × [`STREAMS_PER_VALIDATOR`] ×
//! the stream byte limit for reassembly, plus [`HEIGHTS_AHEAD`] ×
//! ([`ROUNDS_AHEAD`] + 1) completed streams.

use std::collections::{BTreeMap, BTreeSet};

use malachitebft_core_types::{Context as _, Round};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_peer::PeerId;

use super::peers::ValidatorPeers;
use super::streaming::{CompletedStream, OpenedStream, PartStreams, Progress, StreamError};
use super::types::{Address, AssentContext, Height, ProposalPart, ValidatorSet};

/// Heights above the current one whose proposals are kept.
pub const HEIGHTS_AHEAD: u64 = 2;
/// Rounds above the current one (at the current height; above round 0 at a
/// later height) whose proposals are taken.
pub const ROUNDS_AHEAD: u32 = 8;
/// Open reassembly streams per validator.
pub const STREAMS_PER_VALIDATOR: usize = 3;

/// Why a proposal stream (or one of its parts) was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("publisher {0} is not a validator of this height")]
    NotAValidator(PeerId),
    #[error("validator {publisher} published a stream claiming to be {claimed}")]
    NotItsOwn {
        publisher: Address,
        claimed: Address,
    },
    #[error("height {0} is already decided here")]
    Past(u64),
    #[error("height {height} is more than {HEIGHTS_AHEAD} above the current {current}")]
    TooFarAhead { height: u64, current: u64 },
    #[error("round {round} is more than {ROUNDS_AHEAD} rounds ahead")]
    RoundTooFar { round: u32 },
    #[error("the stream is for a nil round")]
    NilRound,
    #[error("{claimed} is not the proposer of height {height} round {round}")]
    NotTheProposer {
        claimed: Address,
        height: u64,
        round: u32,
    },
    #[error("a value for height {height} round {round} was already taken (equivocation?)")]
    SecondValue { height: u64, round: u32 },
    #[error(transparent)]
    Stream(#[from] StreamError),
}

impl Refused {
    /// A stable label for metrics (a closed set).
    pub fn code(&self) -> &'static str {
        match self {
            Refused::NotAValidator(_) => "not_a_validator",
            Refused::NotItsOwn { .. } => "not_its_own",
            Refused::Past(_) => "past_height",
            Refused::TooFarAhead { .. } => "height_too_far",
            Refused::RoundTooFar { .. } => "round_too_far",
            Refused::NilRound => "nil_round",
            Refused::NotTheProposer { .. } => "not_the_proposer",
            Refused::SecondValue { .. } => "second_value",
            Refused::Stream(_) => "malformed",
        }
    }
}

/// What to do with a stream that passed.
#[derive(Debug)]
pub enum Accepted {
    /// Opened for the current height, in a round whose value is not taken
    /// yet: its block may be executed while the `Fin` part is on its way.
    /// (Only a completed stream takes the round's value.)
    Execute(Box<OpenedStream>),
    /// For the current height: judge it now.
    Judge(Box<CompletedStream>),
    /// For a later height: kept until that height starts.
    Later,
}

/// The gate in front of proposal streams; see the module docs.
#[derive(Debug)]
pub struct Intake {
    ctx: AssentContext,
    streams: PartStreams,
    peers: ValidatorPeers,
    set: Option<ValidatorSet>,
    height: Height,
    round: Round,
    /// Passed streams for later heights, one per (height, round).
    later: BTreeMap<(u64, u32), CompletedStream>,
    /// Rounds of the current height whose value was taken.
    taken: BTreeSet<u32>,
}

impl Intake {
    pub fn new(ctx: AssentContext) -> Intake {
        Intake {
            ctx,
            streams: PartStreams::new(),
            peers: ValidatorPeers::default(),
            set: None,
            height: Height(0),
            round: Round::Nil,
            later: BTreeMap::new(),
            taken: BTreeSet::new(),
        }
    }

    /// Starts `height` with its validator set; returns the kept streams for
    /// it that still pass under that set, in round order, to be judged.
    pub fn start_height(&mut self, height: Height, set: ValidatorSet) -> Vec<CompletedStream> {
        if height != self.height {
            self.taken.clear();
            self.round = Round::Nil;
        }
        self.height = height;
        self.peers = ValidatorPeers::new(&set);
        self.streams.set_publisher_limits(
            STREAMS_PER_VALIDATOR,
            STREAMS_PER_VALIDATOR.saturating_mul(self.peers.len().max(1)),
        );
        self.set = Some(set);
        self.streams.prune_below(height);
        let due: Vec<CompletedStream> = {
            let keep = self.later.split_off(&(height.0 + 1, 0));
            let due = std::mem::replace(&mut self.later, keep);
            due.into_iter()
                .filter(|((h, _), _)| *h == height.0)
                .map(|(_, s)| s)
                .collect()
        };
        due.into_iter()
            .filter_map(|s| match self.check(s) {
                Ok(Accepted::Judge(s)) => Some(*s),
                Ok(Accepted::Later | Accepted::Execute(_)) => None,
                Err(why) => {
                    tracing::debug!(target: "assent::consensus", %why, "kept proposal dropped");
                    None
                }
            })
            .collect()
    }

    /// The round the engine started at the current height.
    pub fn start_round(&mut self, round: Round) {
        self.round = round;
    }

    /// Takes one proposal-part message published by `publisher`. Returns a
    /// stream when this part opens or completes one that passes every
    /// check.
    pub fn part(
        &mut self,
        publisher: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<Accepted>, Refused> {
        let Some(validator) = self.peers.validator(&publisher) else {
            return Err(Refused::NotAValidator(publisher));
        };
        let Some(progress) = self.streams.insert(publisher, msg)? else {
            return Ok(None);
        };
        let claimed = match &progress {
            Progress::Opened(o) => o.proposer,
            Progress::Completed(c) => c.proposer,
        };
        if claimed != validator {
            return Err(Refused::NotItsOwn {
                publisher: validator,
                claimed,
            });
        }
        match progress {
            Progress::Opened(o) => self.check_opened(o),
            Progress::Completed(c) => self.check(c).map(Some),
        }
    }

    /// An opened stream is worth executing early only for the current
    /// height, from the round's proposer, in a round whose value is not
    /// taken. Anything else waits for the stream to complete, and is judged
    /// or refused (and counted) then, once.
    fn check_opened(&mut self, o: OpenedStream) -> Result<Option<Accepted>, Refused> {
        let Some(round) = o.round.as_u32() else {
            return Ok(None);
        };
        if o.height != self.height
            || self.taken.contains(&round)
            || self
                .slot_check(o.publisher, o.height, o.round, o.proposer)
                .is_err()
        {
            return Ok(None);
        }
        Ok(Some(Accepted::Execute(Box::new(o))))
    }

    /// Height, round and proposer checks of a stream's (height, round).
    fn slot_check(
        &self,
        publisher: PeerId,
        at: Height,
        r: Round,
        proposer: Address,
    ) -> Result<(), Refused> {
        let (height, current) = (at.0, self.height.0);
        if height < current {
            return Err(Refused::Past(height));
        }
        if height > current.saturating_add(HEIGHTS_AHEAD) {
            return Err(Refused::TooFarAhead { height, current });
        }
        let Some(round) = r.as_u32() else {
            return Err(Refused::NilRound);
        };
        let base = if height == current {
            self.round.as_u32().unwrap_or(0)
        } else {
            0
        };
        if round > base.saturating_add(ROUNDS_AHEAD) {
            return Err(Refused::RoundTooFar { round });
        }
        let Some(set) = &self.set else {
            return Err(Refused::NotAValidator(publisher));
        };
        let expected = self.ctx.select_proposer(set, at, r).address;
        if expected != proposer {
            return Err(Refused::NotTheProposer {
                claimed: proposer,
                height,
                round,
            });
        }
        Ok(())
    }

    /// Height, round, proposer and slot checks of a completed stream.
    fn check(&mut self, s: CompletedStream) -> Result<Accepted, Refused> {
        self.slot_check(s.publisher, s.height, s.round, s.proposer)?;
        let (height, current) = (s.height.0, self.height.0);
        let round = s.round.as_u32().unwrap_or(0);
        if height == current {
            if !self.taken.insert(round) {
                return Err(Refused::SecondValue { height, round });
            }
            return Ok(Accepted::Judge(Box::new(s)));
        }
        if self.later.contains_key(&(height, round)) {
            return Err(Refused::SecondValue { height, round });
        }
        self.later.insert((height, round), s);
        Ok(Accepted::Later)
    }

    /// Open reassembly streams and their buffered bytes; completed streams
    /// kept for later heights.
    pub fn held(&self) -> (usize, usize, usize) {
        (
            self.streams.len(),
            self.streams.buffered_bytes(),
            self.later.len(),
        )
    }
}

#[cfg(test)]
#[path = "intake_tests.rs"]
mod tests;
