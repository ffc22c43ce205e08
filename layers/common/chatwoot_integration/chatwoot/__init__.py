"""Chatwoot REST client: typed models (``models``), bounded retries (``retry``, ``transport``), typed errors
(``errors``), the shared HTTP pool (``http``), answers (``responses``) and writes (``writes``), tied together by
``client.ChatwootClient``. Import names from their module: importing one (the errors, say) does not load the
others."""
