//! The gossip actor's side of fetching a proposal's txs
//! ([`super::super::fetch`]): sending our requests' answers back to the
//! asker, and handing peers' requests to the node within the serving bounds.

use std::time::Duration;

use futures::future::BoxFuture;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::{PeerId, Swarm};

use super::super::fetch::{FetchError, FetchRequest, FetchResponse, Serve};
use super::super::LOG;
use super::{Actor, Behaviour};

/// How long a fetch may take before the asker gives up on the peer.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// What a fetch's asker is waiting on.
pub(super) type FetchReply = tokio::sync::oneshot::Sender<Result<FetchResponse, FetchError>>;
/// A request being answered by the node: (peer, channel, the answer).
pub(super) type Answer = BoxFuture<
    'static,
    (
        PeerId,
        ResponseChannel<FetchResponse>,
        Option<FetchResponse>,
    ),
>;

impl Actor {
    pub(super) fn on_fetch(&mut self, event: request_response::Event<FetchRequest, FetchResponse>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.serve_request(peer, request, channel),
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(reply) = self.fetches.remove(&request_id) {
                    let _ = reply.send(match response {
                        FetchResponse::Unknown => Err(FetchError::Unknown),
                        txs => Ok(txs),
                    });
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(reply) = self.fetches.remove(&request_id) {
                    let _ = reply.send(Err(FetchError::Failed(error.to_string())));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(target: LOG, %peer, %error, "a peer's fetch request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Hands a peer's request to the node, within the serving bounds; a
    /// request over them, or with no one to answer, gets `Unknown`.
    fn serve_request(
        &mut self,
        peer: PeerId,
        request: FetchRequest,
        channel: ResponseChannel<FetchResponse>,
    ) {
        let refuse = |swarm: &mut Swarm<Behaviour>, channel| {
            let _ = swarm
                .behaviour_mut()
                .fetch
                .send_response(channel, FetchResponse::Unknown);
        };
        let Some(serve) = &self.serve else {
            return refuse(&mut self.swarm, channel);
        };
        if !self.serving.start(peer) {
            tracing::debug!(target: LOG, %peer, "fetch request over the serving bound; refused");
            return refuse(&mut self.swarm, channel);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        if serve
            .try_send(Serve {
                from: peer,
                request,
                reply,
            })
            .is_err()
        {
            self.serving.done(peer);
            return refuse(&mut self.swarm, channel);
        }
        self.answers
            .push(Box::pin(async move { (peer, channel, answer.await.ok()) }));
    }
}
