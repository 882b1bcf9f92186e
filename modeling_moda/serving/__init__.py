"""An OpenAI-compatible server for MODA with dynamic batching (`moda serve`).

- `app.create_app(describer, counter, settings)`: the FastAPI app; the describer is any object with
  `describe_detailed(images, max_new_tokens=, prompt=, on_text=)` (`batcher.Describer`), e.g.
  `load_describer(...)`.
- `batcher.Batcher`: one queue, one worker thread, batches of up to `max_batch_size` within a time window.
- `images`: image URL policy (data URLs; remote / local only when allowed), `chat_request`: request parsing.
"""
