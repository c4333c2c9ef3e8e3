//! Serving a router on a listener with the limits an exposed webhook server needs: at most
//! `max_connections` connections at once (the rest wait in the kernel's backlog), request
//! headers within the request timeout (a slow client cannot hold a connection), HTTP/1 only,
//! and a graceful stop that lets requests in flight finish. Written on hyper's connection
//! builder because `axum::serve` sets neither a header timeout nor a connection cap.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long requests in flight may take to finish once the server stops.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes, then waits (up to [`DRAIN`]) for
/// the requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: (usize, Duration),
    shutdown: impl Future<Output = ()> + Send,
) {
    let (max_connections, header_timeout) = limits;
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A connection is accepted only when it can be served.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // A connection reset before it was accepted, out of file descriptors: pause
                // rather than spin, and go on serving.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _nodelay = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ignored = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _drained = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}
