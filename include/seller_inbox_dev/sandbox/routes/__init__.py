"""One FastAPI router per simulated API (and one for the test controls under ``/_sandbox/``).

Routes reach the simulator through ``http.sim_of(request)``; ``app.create_app`` includes the
routers in ``ROUTERS`` order.
"""
