"""Order import use cases (SPEC §6): the scheduled tick, manual runs, the worker that stores each
merchant-fulfilled order once, and re-evaluation of held orders.

One job per client, seller and region: a seller's marketplaces share Amazon's order-search quota
(searchOrders refills one call every three minutes per seller), so one search series covers all of
the seller's importing marketplaces (up to 50 per call) and the orders are split into their accounts
by marketplace. Accounts are still enabled one by one, and each keeps its watermark; the job reads
from the oldest of them.

- `ports`: what the import needs from outside, as Protocols;
- `scheduler`: the tick (jobs queued once their accounts are claimed, and the sweeps it runs) and the
  manual runs;
- `worker`: one job, a search's pages stored, checkpointed and the watermarks moved;
- `judge`: an order judged with the client's current SKUs, courier mappings and SKU aliases;
- `writer`: a judged order stored once, and the outbox relay that sends its event to the bus;
- `reevaluation`: stored orders judged again, an operator's release, despatch;
- `pii_purge`: the buyer's data deleted when its time has come.

One package, so that the `workers` contract (pyproject.toml) and the cold-start test hold its modules as
one: it imports nothing of the stock sync's or the shipments' services, nor they any of it.
"""
